# Median across runs of the per-run medians of bench-costs (results/costs-node<major>-run*.json).
import json, glob, statistics, sys
for major in ('20', '26'):
    runs = []
    for f in sorted(glob.glob(f'results/costs-node{major}-run*.json')):
        line = [l for l in open(f) if l.startswith('{')][0]
        runs.append({r['what']: r['median'] for r in json.loads(line)['table']})
    print(f'== Node {major}: {len(runs)} runs x 5 rounds')
    for k in runs[0]:
        xs = [r[k] for r in runs if k in r]
        print(f'{statistics.median(xs):9.2f}   {k}   (runs: {" ".join(str(x) for x in xs)})')
