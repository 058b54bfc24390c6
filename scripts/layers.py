#!/usr/bin/env python3
"""Layering check: no module imports a module that imports it back.

Reads every module of the two crates (src/ and preload/src/), collects what each imports from
its own crate (`use crate::…`, `use super::…`, `use self::…`, `use child::…`, and the same paths
written inline in code; test modules are left out), and reports every cycle of imports.

    scripts/layers.py            # check; exit 1 on a cycle, with the imports that form it
    scripts/layers.py --print    # the module tree, each module with the modules it imports

A cycle whose edges are all listed in scripts/layers.allow (lines "preload/src: a -> b") is
tolerated; an allowed edge that no longer exists is reported, so that the list only shrinks.
"""
import os
import re
import sys

ROOTS = ["src", "preload/src"]
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
ALLOW = os.path.join(HERE, "layers.allow")


def strip(text):
    """The code without comments and without the contents of string and char literals."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif re.match(r'(b?r#*")', text[i:i + 40] or "") and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            if m:
                end = text.find('"' + m.group(1), i + m.end())
                end = n if end < 0 else end + 1 + len(m.group(1))
            else:
                end = i + 1
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_test_blocks(code):
    """Removes `#[cfg(test)] mod name { … }` blocks (inline test modules)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", code)
        if not m:
            return code
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        code = code[: m.start()] + "\n" * code.count("\n", m.start(), j) + code[j:]


def expand(tree):
    """`a::{b, c::{d, self}}` -> [[a, b], [a, c, d], [a, c]]."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas\w+", "", tree.replace("as", " as ")) if " as " in tree else tree

    def parse(s, prefix):
        paths, depth, start = [], 0, 0
        parts = []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:k])
                start = k + 1
        parts.append(s[start:])
        for part in parts:
            if not part:
                continue
            b = part.find("{")
            if b >= 0:
                head = [x for x in part[:b].split("::") if x]
                paths += parse(part[b + 1: part.rfind("}")], prefix + head)
            else:
                segs = [x for x in part.split("::") if x]
                if segs == ["self"]:
                    paths.append(prefix)
                else:
                    paths.append(prefix + segs)
        return paths

    return parse(tree, [])


class Crate:
    def __init__(self, root):
        self.root = root
        self.files = {}  # module path (tuple) -> file
        for d, _, fs in os.walk(os.path.join(TOP, root)):
            for f in fs:
                if not f.endswith(".rs"):
                    continue
                rel = os.path.relpath(os.path.join(d, f), os.path.join(TOP, root))
                parts = rel[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib"):
                    parts = parts[:-1]
                self.files[tuple(parts)] = os.path.join(root, rel)
        self.tests = set()
        self.code = {}
        for mod, f in self.files.items():
            with open(os.path.join(TOP, f), encoding="utf-8") as fh:
                code = strip(fh.read())
            for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
                self.tests.add(mod + (m.group(3),))
            self.code[mod] = drop_test_blocks(code)
        # Modules under a test module are test code too.
        self.tests = {m for m in self.files if any(m[: len(t)] == t for t in self.tests)}

    def modules(self):
        return sorted(m for m in self.files if m not in self.tests)

    def resolve(self, mod, segs):
        """The module a path written in `mod` names (the longest module prefix), or None."""
        if not segs:
            return None
        if segs[0] == "crate":
            path, rest = (), segs[1:]
        elif segs[0] in ("super", "self"):
            path, rest = mod, segs
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super":
                    path = path[:-1]
                rest = rest[1:]
        elif mod + (segs[0],) in self.files:
            path, rest = mod, segs  # a child module, named relatively
        else:
            return None  # std, another crate, or a name imported by a `use`
        best = path
        for k in range(1, len(rest) + 1):
            if path + tuple(rest[:k]) in self.files:
                best = path + tuple(rest[:k])
        return best

    def imports(self):
        """module -> {imported module: first line that imports it}."""
        graph = {}
        for mod in self.modules():
            code = self.code[mod]
            edges = {}

            def add(target, pos):
                if target is None or target == mod or target in self.tests:
                    return
                line = code.count("\n", 0, pos) + 1
                edges.setdefault(target, line)

            spans = []
            for m in re.finditer(r"\buse\s+([^;]+);", code):
                spans.append((m.start(), m.end()))
                for p in expand(m.group(1)):
                    add(self.resolve(mod, p), m.start())
            for m in re.finditer(r"(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:\s*::\s*[A-Za-z_]\w*)+)", code):
                if any(a <= m.start() < b for a, b in spans):
                    continue
                segs = [s.strip() for s in m.group(1).split("::")]
                add(self.resolve(mod, segs), m.start())
            graph[mod] = edges
        return graph


def name(mod):
    return "::".join(mod) if mod else "(root)"


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def load_allow():
    allow = set()
    if os.path.exists(ALLOW):
        with open(ALLOW, encoding="utf-8") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                m = re.match(r"(\S+):\s*(\S+)\s*->\s*(\S+)$", line)
                if m:
                    allow.add((m.group(1), m.group(2), m.group(3)))
    return allow


def main():
    show = "--print" in sys.argv[1:]
    allow = load_allow()
    used_allow = set()
    bad = 0
    for root in ROOTS:
        crate = Crate(root)
        graph = crate.imports()
        if show:
            print(f"{root}:")
            for mod in crate.modules():
                deps = ", ".join(name(t) for t in sorted(graph[mod])) or "-"
                print(f"  {name(mod):<22} {crate.files[mod]:<30} imports: {deps}")
            continue
        checked = {}
        for v, edges in graph.items():
            checked[v] = {}
            for w, line in edges.items():
                key = (root, name(v), name(w))
                if key in allow:
                    used_allow.add(key)
                else:
                    checked[v][w] = line
        for comp in sccs(checked):
            if len(comp) < 2:
                continue
            bad += 1
            members = set(comp)
            print(f"{root}: these modules import each other (a cycle):")
            for v in sorted(comp):
                for w, line in sorted(checked[v].items()):
                    if w in members:
                        print(f"  {crate.files[v]}:{line}: {name(v)} imports {name(w)}")
    if show:
        return 0
    for key in sorted(allow - used_allow):
        print(f"scripts/layers.allow: '{key[0]}: {key[1]} -> {key[2]}' no longer exists: remove the line")
    if bad:
        print(f"{bad} import cycle(s): move the shared item down into a module both can import")
        return 1
    n = len(used_allow)
    print("no import cycles" + (f" ({n} allowed edge(s) in scripts/layers.allow)" if n else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
