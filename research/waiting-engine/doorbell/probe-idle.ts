import fs from 'node:fs';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < 4; i++) {
  const b = process.cpuUsage();
  await sleep(2000);
  const d = process.cpuUsage(b);
  console.log('idle ms/2s', (d.user + d.system) / 1000);
  if (i === 1) for (let j = 0; j < 200; j++) await fs.promises.readFile('/etc/hostname');
}
