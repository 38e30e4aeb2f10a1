#!/usr/bin/env python3
"""Sizes of a chunked full-text index of our own, for issue 29's choice
against Pagefind: built from a casebook output folder (its
case-studies.json and each page's body), with the layout this script
describes, and measured gzipped. Nothing is written.

Usage: python3 benches/search/estimate.py OUTPUT_DIR

Layout measured:
- facets: for every facet value, its case studies' numbers (sorted,
  delta-encoded as varints): what the first load needs for exact counts
  under any combination of filters;
- cards: title, URL, date, facets of each case study, in blocks of 100
  (the first block comes with the first load);
- terms: every word of title, summary, body, NGO and terms, lower-cased
  and crudely stemmed, with its case studies (varint deltas, and a field
  byte: 2 title/summary, 1 body), in shards by the word's first two
  letters, split further while a shard is over 40 kB gzipped;
- excerpts: each case study's text, one file per block of 10, for
  highlighted excerpts of the results shown.
"""
import gzip, json, re, sys, collections, os

out = sys.argv[1]
data = json.load(open(os.path.join(out, 'case-studies.json')))['case_studies']

def varints(nums):
    b = bytearray()
    prev = 0
    for n in nums:
        d = n - prev
        prev = n
        while True:
            x = d & 0x7f
            d >>= 7
            if d:
                b.append(x | 0x80)
            else:
                b.append(x)
                break
    return bytes(b)

def gz(b):
    return len(gzip.compress(b, 9))

def stem(w):
    for suf in ('ations', 'ation', 'ings', 'ing', 'ies', 'ers', 'er', 'ed', 'es', 'ly', 's'):
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[:-len(suf)]
    return w

facets = collections.defaultdict(list)
terms = collections.defaultdict(dict)
cards = []
texts = []
for i, cs in enumerate(data):
    html = open(os.path.join(out, 'case-studies', cs['slug'], 'index.html')).read()
    body = html.split('<div class="doc-body prose">')[1].split('</div>')[0]
    body = re.sub(r'<[^>]+>', ' ', body)
    texts.append(body)
    for f in ('ngo', 'sector', 'program', 'country', 'tags'):
        for v in cs[f]:
            facets[(f, v)].append(i)
    cards.append([cs['title'], cs['slug'], cs['date'], [cs[f] for f in ('ngo', 'sector', 'program', 'country', 'tags')]])
    head = ' '.join([cs['title'], cs['summary']] + cs['ngo'] + cs['sector'] + cs['program'] + cs['country'] + cs['tags'])
    for field, text in ((2, head), (1, body)):
        for w in re.findall(r"[a-z0-9][a-z0-9+#]*", text.lower()):
            s = stem(w)
            terms[s][i] = max(terms[s].get(i, 0), field)

facet_bytes = b''.join(json.dumps([k[0], k[1]]).encode() + varints(v) for k, v in sorted(facets.items()))
names = json.dumps(sorted(k for k in facets)).encode()
first_cards = json.dumps(cards[:100]).encode()
print(f"case studies {len(data)}; facet values {len(facets)}; words {len(terms)}")
print(f"first load: facet postings {gz(facet_bytes)/1000:.1f} kB gz; first card block {gz(first_cards)/1000:.1f} kB gz")

def shard_bytes(words):
    b = bytearray()
    for w in words:
        docs = sorted(terms[w])
        b += w.encode() + b'\0' + varints(docs) + bytes(terms[w][d] for d in docs)
    return bytes(b)

shards = {}
queue = collections.deque()
groups = collections.defaultdict(list)
for w in sorted(terms):
    groups[w[:2]].append(w)
queue.extend(groups.items())
while queue:
    prefix, words = queue.popleft()
    size = gz(shard_bytes(words))
    if size > 40_000 and len(words) > 1 and any(len(w) > len(prefix) for w in words):
        sub = collections.defaultdict(list)
        for w in words:
            sub[w[:len(prefix) + 1]].append(w)
        if len(sub) > 1:
            queue.extend(sub.items())
            continue
    shards[prefix] = size
sizes = sorted(shards.values())
print(f"term shards {len(shards)}: median {sizes[len(sizes)//2]/1000:.1f} kB, 95th {sizes[int(len(sizes)*0.95)]/1000:.1f} kB, largest {sizes[-1]/1000:.1f} kB gz; all {sum(sizes)/1e6:.1f} MB")
ex = [gz(json.dumps(texts[i:i+10]).encode()) for i in range(0, len(texts), 10)]
print(f"excerpt blocks of 10: median {sorted(ex)[len(ex)//2]/1000:.1f} kB gz")
for q in ['volunteers', 'training', 'health', 'c++']:
    s = stem(q)
    prefix = max((p for p in shards if s.startswith(p)), key=len, default=None)
    print(f"query {q!r}: shard {prefix!r} {shards.get(prefix, 0)/1000:.1f} kB, {len(terms.get(s, {}))} case studies")
