#!/usr/bin/env python3
# Medians over repetitions of JSON-lines results: summarize.py FILE key1,key2 metric1,metric2,...
import json, sys, statistics
from collections import defaultdict
path, keys, metrics = sys.argv[1], sys.argv[2].split(','), sys.argv[3].split(',')
groups = defaultdict(list)
order = []
for line in open(path):
    line = line.strip()
    if not line.startswith('{'): continue
    r = json.loads(line)
    if 'failed' in r: print('FAILED', r); continue
    k = tuple(r.get(x) for x in keys)
    if k not in groups: order.append(k)
    groups[k].append(r)
print('\t'.join(keys + ['reps'] + [m + '(med)' for m in metrics] + [m + '(all)' for m in metrics[:2]]))
for k in order:
    rs = groups[k]
    meds = [statistics.median([r[m] for r in rs]) for m in metrics]
    alls = [','.join(f'{r[m]:.3g}' for r in rs) for m in metrics[:2]]
    print('\t'.join([str(x) for x in k] + [str(len(rs))] + [f'{x:.3g}' for x in meds] + alls))
