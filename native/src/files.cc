// cgroup / resctrl / sysfs file I/O with exact errno reporting, and a batched
// re-read of already-open counter files (cpuacct.usage, cpu.stat, ...) so the
// control loop pays one call per tick instead of one per file.
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace umbra {
namespace {

std::string PathArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::String>().Utf8Value();
}

// The whole file into *data: read(2) from the current offset, or pread(2)
// from offset 0 (a descriptor kept open). 0, or the errno.
int ReadAll(int fd, bool fromStart, std::string* data) {
  char buf[8192];
  off_t off = 0;
  for (;;) {
    ssize_t n = fromStart ? pread(fd, buf, sizeof(buf), off) : read(fd, buf, sizeof(buf));
    if (n < 0) return errno;
    if (n == 0) return 0;
    data->append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// One write of the whole value at offset 0 (cgroupfs and resctrl parse each
// write as a whole value). 0, or the errno (EIO for a short write).
int WriteAll(int fd, const std::string& data) {
  ssize_t n = pwrite(fd, data.data(), data.size(), 0);
  if (n < 0) return errno;
  return static_cast<size_t>(n) == data.size() ? 0 : EIO;
}

Napi::Value DataResult(Napi::Env env, int err, const std::string& data) {
  if (err != 0) return ErrnoResult(env, err);
  Napi::Object out = OkResult(env);
  out.Set("data", Napi::String::New(env, data));
  return out;
}

Napi::Value StatusResult(Napi::Env env, int err) {
  return err != 0 ? ErrnoResult(env, err) : OkResult(env);
}

// Filesystems whose files are generated on each read and take a whole value
// per write(2) at any offset, so a descriptor can be kept open and re-read or
// rewritten: cgroup v1/v2, sysfs, resctrl, procfs.
bool IsControlFs(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) != 0) return false;
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0x27e0ebUL:     // CGROUP_SUPER_MAGIC
    case 0x63677270UL:   // CGROUP2_SUPER_MAGIC
    case 0x62656572UL:   // SYSFS_MAGIC
    case 0x7655821UL:    // RDTGROUP_SUPER_MAGIC
    case 0x9fa0UL:       // PROC_SUPER_MAGIC
      return true;
    default:
      return false;
  }
}

// open(path, flags) -> { ok, fd, control } | errno result (control: see IsControlFs).
Napi::Value OpenKept(const Napi::CallbackInfo& info, int flags, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, usage);
    return env.Null();
  }
  int fd = open(PathArg(info, 0).c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoResult(env, errno);
  Napi::Object out = OkResult(env);
  out.Set("fd", fd);
  out.Set("control", IsControlFs(fd));
  return out;
}

// readFile(path) -> { ok, data } | errno result. Whole file, as sysfs files are small.
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, "readFile(path: string)");
    return env.Null();
  }
  int fd = open(PathArg(info, 0).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoResult(env, errno);
  std::string data;
  int err = ReadAll(fd, false, &data);
  close(fd);
  return DataResult(env, err, data);
}

// writeFile(path, data) -> ok | errno result. One write at offset 0: cgroupfs and
// resctrl parse each write as a whole value.
Napi::Value WriteFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    ThrowUsage(env, "writeFile(path: string, data: string)");
    return env.Null();
  }
  int fd = open(PathArg(info, 0).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoResult(env, errno);
  int err = WriteAll(fd, PathArg(info, 1));
  close(fd);
  return StatusResult(env, err);
}

Napi::Value MakeDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, "mkdir(path: string)");
    return env.Null();
  }
  if (mkdir(PathArg(info, 0).c_str(), 0755) != 0) return ErrnoResult(env, errno);
  return OkResult(env);
}

Napi::Value RemoveDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, "rmdir(path: string)");
    return env.Null();
  }
  if (rmdir(PathArg(info, 0).c_str()) != 0) return ErrnoResult(env, errno);
  return OkResult(env);
}

// openRead(path) -> { ok, fd, control }: keep a counter file open for
// preadInts / preadText.
Napi::Value OpenRead(const Napi::CallbackInfo& info) {
  return OpenKept(info, O_RDONLY, "openRead(path: string)");
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "closeFd(fd: number)");
    return env.Null();
  }
  if (close(info[0].As<Napi::Number>().Int32Value()) != 0) return ErrnoResult(env, errno);
  return OkResult(env);
}

// preadInts(fds: Int32Array, out: Float64Array) -> count read
// Re-reads each file from offset 0 and stores the first unsigned integer in it
// (cpuacct.usage, memory.usage_in_bytes, "usage_usec N" in cpu.stat), or NaN.
Napi::Value PreadInts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    ThrowUsage(env, "preadInts(fds: Int32Array, out: Float64Array)");
    return env.Null();
  }
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  if (out.ElementLength() < fds.ElementLength()) {
    ThrowUsage(env, "preadInts: out must be at least as long as fds");
    return env.Null();
  }
  size_t okCount = 0;
  char buf[256];
  for (size_t i = 0; i < fds.ElementLength(); ++i) {
    ssize_t n = pread(fds[i], buf, sizeof(buf) - 1, 0);
    out[i] = std::nan("");
    if (n <= 0) continue;
    buf[n] = '\0';
    char* p = buf;
    while (*p && (*p < '0' || *p > '9')) ++p;
    if (!*p) continue;
    out[i] = std::strtod(p, nullptr);
    ++okCount;
  }
  return Napi::Number::New(env, static_cast<double>(okCount));
}

// preadText(fd) -> { ok, data } | errno result: the whole file re-read from
// offset 0 on a descriptor kept open (/proc/<pid>/status, cgroup.procs, ...).
// Re-reading an open file skips the path walk, which is most of a cold read.
Napi::Value PreadText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "preadText(fd: number)");
    return env.Null();
  }
  std::string data;
  int err = ReadAll(info[0].As<Napi::Number>().Int32Value(), true, &data);
  return DataResult(env, err, data);
}

// openWrite(path) -> { ok, fd, control } | errno result. control: the file is
// on a control filesystem and may be rewritten through pwriteText; otherwise
// the caller should close it and use writeFile (a regular file would keep the
// tail of a longer old value).
Napi::Value OpenWrite(const Napi::CallbackInfo& info) {
  return OpenKept(info, O_WRONLY, "openWrite(path: string)");
}

// pwriteText(fd, data) -> ok | errno result: one pwrite(2) at offset 0.
Napi::Value PwriteText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    ThrowUsage(env, "pwriteText(fd: number, data: string)");
    return env.Null();
  }
  return StatusResult(env, WriteAll(info[0].As<Napi::Number>().Int32Value(), PathArg(info, 1)));
}

}  // namespace

void RegisterFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("readFile", Napi::Function::New(env, ReadFile));
  exports.Set("writeFile", Napi::Function::New(env, WriteFile));
  exports.Set("mkdir", Napi::Function::New(env, MakeDir));
  exports.Set("rmdir", Napi::Function::New(env, RemoveDir));
  exports.Set("openRead", Napi::Function::New(env, OpenRead));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("preadInts", Napi::Function::New(env, PreadInts));
  exports.Set("preadText", Napi::Function::New(env, PreadText));
  // /proc/<pid>/statm counts pages; statm is half the cost of status to read.
  exports.Set("pageSizeBytes", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  exports.Set("openWrite", Napi::Function::New(env, OpenWrite));
  exports.Set("pwriteText", Napi::Function::New(env, PwriteText));
}

}  // namespace umbra
