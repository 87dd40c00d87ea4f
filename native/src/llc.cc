// The exact LLC's hot loop (sim/llc/llc-exact.ts), native. It works on the
// JS object's own typed arrays, in the same layout, so the two paths share
// state and must make identical decisions (tested against each other):
//   tags:  per line (16 slots per set), tag or -1 when invalid
//   meta:  per set 8 int32: [sig0..sig3, permLo, permHi, pad, pad]
//          sig bytes = 8-bit tag signatures per way (kept for the JS path);
//          perm = recency order as 16 nibbles (nibble p = way at position p,
//          position 0 = most recently used), lo word = positions 0-7
//   owner: per line, task index + 1 (0 = invalid)
//   occupancy: per task, lines held
// Lookups compare the set's 16 tags with SSE2 (baseline x86-64); elsewhere a
// plain loop, which the compiler vectorises as it can.
#include "common.h"

#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

inline int FindWay(const int32_t* tags, int32_t tag) {
#if defined(__SSE2__)
  const __m128i t = _mm_set1_epi32(tag);
  const __m128i* p = reinterpret_cast<const __m128i*>(tags);
  const int m0 = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128(p), t)));
  const int m1 = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128(p + 1), t)));
  const int m2 = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128(p + 2), t)));
  const int m3 = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128(p + 3), t)));
  const int m = m0 | (m1 << 4) | (m2 << 8) | (m3 << 12);
  return m ? __builtin_ctz(m) : -1;
#else
  for (int w = 0; w < 16; w++)
    if (tags[w] == tag) return w;
  return -1;
#endif
}

constexpr uint64_t kNibbleOnes = 0x1111111111111111ULL;
constexpr uint64_t kNibbleHighs = 0x8888888888888888ULL;

inline uint64_t MoveToFront(uint64_t perm, int w) {
  const uint64_t x = perm ^ (kNibbleOnes * static_cast<uint64_t>(w));
  const uint64_t z = (x - kNibbleOnes) & ~x & kNibbleHighs;  // lowest flag is exact
  const int p = __builtin_ctzll(z) >> 2;
  if (p == 0) return perm;
  const int sh = p << 2;
  const uint64_t below = perm & ((1ULL << sh) - 1);
  const uint64_t above = p == 15 ? 0 : (perm >> (sh + 4)) << (sh + 4);
  return above | (below << 4) | static_cast<uint64_t>(w);
}

inline int LruWayInMask(uint64_t perm, uint32_t mask) {
  for (int p = 15; p >= 0; p--) {
    const int way = static_cast<int>((perm >> (p << 2)) & 15);
    if ((mask >> way) & 1) return way;
  }
  return -1;
}

// llcAccessBatch(tags, meta, owner, occupancy, setBits, task, mask, blocks, start, end) -> hits
Napi::Value LlcAccessBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "llcAccessBatch(tags: Int32Array, meta: Int32Array, owner: Uint8Array, occupancy: Int32Array, setBits, task, mask, blocks: Int32Array, start, end)";
  if (info.Length() < 10 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray() || !info[7].IsTypedArray()) {
    umbra::ThrowUsage(env, usage);
    return env.Null();
  }
  auto tagsArr = info[0].As<Napi::Int32Array>();
  auto metaArr = info[1].As<Napi::Int32Array>();
  auto ownerArr = info[2].As<Napi::Uint8Array>();
  auto occArr = info[3].As<Napi::Int32Array>();
  const int setBits = info[4].As<Napi::Number>().Int32Value();
  const int task = info[5].As<Napi::Number>().Int32Value();
  const uint32_t mask = info[6].As<Napi::Number>().Uint32Value();
  auto blocksArr = info[7].As<Napi::Int32Array>();
  const size_t start = info[8].As<Napi::Number>().Int64Value();
  const size_t end = info[9].As<Napi::Number>().Int64Value();
  const size_t sets = metaArr.ElementLength() / 8;
  if (setBits < 0 || setBits > 30 || (size_t(1) << setBits) != sets || tagsArr.ElementLength() != sets * 16 || ownerArr.ElementLength() != sets * 16 ||
      task < 0 || size_t(task) >= occArr.ElementLength() || end > blocksArr.ElementLength() || start > end || mask == 0) {
    umbra::ThrowUsage(env, usage);
    return env.Null();
  }
  int32_t* tags = tagsArr.Data();
  int32_t* meta = metaArr.Data();
  uint8_t* owner = ownerArr.Data();
  int32_t* occ = occArr.Data();
  const int32_t* blocks = blocksArr.Data();
  const uint32_t setMask = static_cast<uint32_t>(sets - 1);
  const uint8_t me = static_cast<uint8_t>(task + 1);
  const bool full = mask == 0xffffu;
  int64_t hits = 0;
  for (size_t i = start; i < end; i++) {
    const uint32_t b = static_cast<uint32_t>(blocks[i]);
    const uint32_t set = b & setMask;
    const int32_t tag = static_cast<int32_t>(b >> setBits);
    int32_t* setTags = tags + set * 16;
    int32_t* m = meta + set * 8;
    uint64_t perm = static_cast<uint32_t>(m[4]) | (static_cast<uint64_t>(static_cast<uint32_t>(m[5])) << 32);
    int w = FindWay(setTags, tag);
    if (w >= 0 && owner[set * 16 + w] != 0) {
      hits++;
    } else {
      w = full ? static_cast<int>(perm >> 60) : LruWayInMask(perm, mask);
      const size_t line = set * 16 + w;
      const uint8_t prev = owner[line];
      if (prev != 0) occ[prev - 1]--;
      owner[line] = me;
      occ[task]++;
      setTags[w] = tag;
      const uint32_t sig = ((static_cast<uint32_t>(tag) * 0x9e3779b1u) >> 24) | 0x80u;
      uint32_t word = static_cast<uint32_t>(m[w >> 2]);
      const int sh = (w & 3) << 3;
      word = (word & ~(0xffu << sh)) | (sig << sh);
      m[w >> 2] = static_cast<int32_t>(word);
    }
    perm = MoveToFront(perm, w);
    m[4] = static_cast<int32_t>(static_cast<uint32_t>(perm));
    m[5] = static_cast<int32_t>(static_cast<uint32_t>(perm >> 32));
  }
  return Napi::Number::New(env, static_cast<double>(hits));
}

}  // namespace

namespace umbra {
void RegisterLlc(Napi::Env env, Napi::Object exports) {
  exports.Set("llcAccessBatch", Napi::Function::New(env, LlcAccessBatch));
}
}  // namespace umbra
