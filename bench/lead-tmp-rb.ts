import { benchRepair } from './repair-bench.js';
const n = Number(process.argv[2] ?? 200);
void benchRepair('/tmp/lead-rbench', n, (l) => console.error(l)).then((r) => console.log(JSON.stringify(r)));
