import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { overridesFrom, type OverrideFlags } from '../sweep-options.js';

export const validateCommand: CliCommand = {
  register(program: Command) {
    program
      .command('validate')
      .description('check an experiment spec without running it: fields, workloads, traces, policies and their knobs; lists the jobs it would run')
      .argument('<spec>', 'experiment spec (YAML or JSON)')
      .option('--seeds <n>', 'as umbra run: run seeds 1..n')
      .option('--duration <ms>', 'as umbra run: simulated milliseconds per run')
      .option('--json', 'print JSON')
      .action(async (specPath: string, opts: OverrideFlags & { json?: boolean }) => {
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { prepareExperiment } = await import('../../spec/prepare.js');
        const { allJobs } = await import('../../sweep/jobs.js');
        const exp = await prepareExperiment(readSpecFile(specPath), overridesFrom(opts));
        const jobs = allJobs(exp);
        const cells = jobs.filter((j) => j.kind === 'cell').length;
        const out = {
          ok: true,
          spec: exp.specPath,
          name: exp.name,
          platform: exp.spec.platform,
          specHash: exp.specHash,
          durationMs: exp.spec.durationMs,
          warmupMs: exp.spec.warmupMs,
          controlPeriodMs: exp.spec.controlPeriodMs,
          seeds: exp.seeds,
          points: exp.points.map((p) => ({ index: p.index, label: p.label, policies: p.policies.map((q) => q.label), tasks: p.scenario.tasks.map((t) => t.id) })),
          cells,
          aloneBaselines: jobs.length - cells,
          jobs: jobs.length,
        };
        if (opts.json) return printJson(out);
        console.log(`${specPath}: valid`);
        console.log(`  ${exp.name} on ${exp.spec.platform}: ${exp.spec.durationMs} ms per run (warm-up ${exp.spec.warmupMs} ms), control period ${exp.spec.controlPeriodMs} ms`);
        console.log(`  seeds ${exp.seeds.join(', ')}; ${exp.points.length} parameter point(s)`);
        for (const p of exp.points) console.log(`  ${p.label ? `point ${p.label}: ` : ''}tasks ${p.scenario.tasks.map((t) => t.id).join(', ')}; policies ${p.policies.map((q) => q.label).join(', ')}`);
        console.log(`  ${jobs.length} jobs: ${cells} runs (policy x seed x point) + ${jobs.length - cells} alone baselines`);
      });
  },
};
