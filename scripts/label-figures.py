#!/usr/bin/env python3
"""Lexical figures of topic labels (QUALITY.md, "Topic labels"): an analysis tool, not on the README path.

For each topic: the share of its papers whose title or abstract uses the label's first term (coverage C), the share of
the papers using it that are in the topic (precision P), their F1, and the same for the label's terms together.
Terms match case-insensitively with an optional plural "s"/"es" on each word and a space or hyphen between words.

With LABELS_VECTORS (the labels embedded by the store's model), also the paper-to-label retrieval: the share of papers
whose nearest label (cosine of the paper's vector to each label's) is their own topic's.

Usage: scripts/embeddings topics --store S --json --quiet --no-history > topics.json
       scripts/embeddings export --store S --format jsonl -o papers.jsonl
       scripts/label-figures.py --labels-jsonl topics.json > labels.jsonl     # one {"id","title","abstract"} per label
       scripts/embeddings embed labels.jsonl -o labels.vectors.jsonl
       scripts/label-figures.py topics.json papers.jsonl [labels.vectors.jsonl] [DUMPS...]
       (DUMPS default: ../shared/corpus/daily-papers/*.txt)
"""
import glob
import json
import math
import re
import sys


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v


def main():
    if sys.argv[1] == '--labels-jsonl':
        for t in json.load(open(sys.argv[2]))['topics']:
            print(json.dumps({'id': str(t['id']), 'title': '', 'abstract': t['label'].replace(' / ', ', ')}))
        return
    topics = json.load(open(sys.argv[1]))['topics']
    titles, vectors = {}, {}
    for line in open(sys.argv[2]):
        o = json.loads(line)
        titles[o['id']] = o['title']
        vectors[o['id']] = unit(o['vector'])
    rest = sys.argv[3:]
    label_vectors = None
    if rest and rest[0].endswith('.jsonl'):
        label_vectors = {json.loads(line)['id']: unit(json.loads(line)['vector']) for line in open(rest[0])}
        rest = rest[1:]
    dumps = rest or sorted(glob.glob('../shared/corpus/daily-papers/*.txt'))
    # A daily-papers dump: a title, a blank line, the abstract; the abstract is the block after the title's.
    blocks = []
    for f in dumps:
        blocks += [b.strip() for b in re.split(r'\n\s*\n', open(f, encoding='utf-8').read())]
    first = {}
    for i, b in enumerate(blocks):
        first.setdefault(' '.join(b.split()), i)
    text = {}
    for pid, t in titles.items():
        i = first.get(' '.join(t.split()))
        abstract = blocks[i + 1] if i is not None and i + 1 < len(blocks) else ''
        text[pid] = (t + ' \n ' + abstract).lower()

    def pattern(term):
        words = []
        for w in term.lower().split():
            base = re.sub(r'(es|s)$', '', w) if len(w) > 3 else w
            words.append(re.escape(base) + r'(s|es)?')
        return re.compile(r'(?<![a-z0-9])' + r'[\s-]+'.join(words) + r'(?![a-z0-9])')

    def users(term):
        r = pattern(term)
        return {p for p, s in text.items() if r.search(s)}

    def figures(using, members):
        hit = len(using & members)
        p = hit / len(using) if using else 0
        c = hit / len(members)
        return p, c, (2 * p * c / (p + c) if p + c else 0)

    sums = [0.0] * 4
    for t in topics:
        members = set(t['papers'])
        parts = [p.strip() for p in t['label'].split(' / ')]
        p1, c1, f1 = figures(users(parts[0]), members)
        pl, cl, fl = figures(set().union(*[users(p) for p in parts]), members)
        per = [len(users(p) & members) for p in parts]
        print(f"{t['id']:>3} {len(members):>4}  {t['label'][:48]:<48} first P={p1:.2f} C={c1:.2f} F1={f1:.2f} | "
              f"label P={pl:.2f} C={cl:.2f} F1={fl:.2f} | topic papers per term {per}")
        for k, v in enumerate((f1, pl, cl, fl)):
            sums[k] += v
    n = len(topics)
    if label_vectors is not None:
        hits = total = 0
        for t in topics:
            for p in t['papers']:
                v = vectors[p]
                nearest = max(label_vectors, key=lambda k: sum(a * b for a, b in zip(v, label_vectors[k])))
                hits += nearest == str(t['id'])
                total += 1
        print(f"paper-to-label retrieval: {hits}/{total} = {hits / total:.3f}")
    print(f"mean over {n} topics: first-term F1 {sums[0] / n:.3f}; label P {sums[1] / n:.3f} C {sums[2] / n:.3f} F1 {sums[3] / n:.3f}")


if __name__ == '__main__':
    main()
