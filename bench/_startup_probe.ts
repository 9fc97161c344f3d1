// One start-up measurement for bench/startup.ts: imports the module given
// (none when the argument is empty) and prints what the import took and the
// process's resident set after it, as JSON.

const target = Deno.args[0];
const start = performance.now();
if (target) await import(target);
const ms = performance.now() - start;
const status = Deno.readTextFileSync("/proc/self/status");
const rss = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
console.log(JSON.stringify({ rss, ms }));
