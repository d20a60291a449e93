/**
 * Summarise a `.cpuprofile` (from `npm run bench:gateway -- --cpu-prof`):
 * self time per package (node_modules package, our workspace code, Node
 * internals, GC, idle) and the top self-time functions.
 *
 *   node test/bench/federation/profile-summary.mts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.mts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

function packageOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return '(program: V8/native, unattributed)';
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const match = /\/work\/[^/]+\/([^/]+(?:\/[^/]+)?)\//.exec(url) ?? /([^/]+\/src)\//.exec(url);
  return `ours: ${match ? match[1] : url}`;
}

const perPackage = new Map<string, number>();
const perFunction = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const pkg = packageOf(node);
  if (pkg === 'idle') {
    idle += us;
    continue;
  }
  total += us;
  perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + us);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${pkg} ${url.split('/').pop()}:${lineNumber + 1}`;
  perFunction.set(key, (perFunction.get(key) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1)} %`;
console.log(`busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s\n`);
console.log('| package | self time |\n|---|---|');
for (const [pkg, us] of [...perPackage].sort((a, b) => b[1] - a[1]).slice(0, 20))
  console.log(`| ${pkg} | ${pct(us)} |`);
console.log('\n| function | self time |\n|---|---|');
for (const [fn, us] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25)))
  console.log(`| ${fn} | ${pct(us)} |`);
