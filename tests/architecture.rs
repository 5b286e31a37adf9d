//! The shape of `src/`, checked from its source text: layers that only point down, no import
//! circle between files, diesel only in repositories, and one way to start a write.
//!
//! The rules and the layer table are the ones `docs/ARCHITECTURE.md` draws. The check reads
//! every `use` declaration (group imports expanded) and every inline path (`crate::a::b`,
//! `super::x`, `recourse::y` from the binaries) outside comments, strings and `#[cfg(test)]`
//! modules, resolves each to the file that defines the module it names, and judges the arrow.
//! `cargo test --test architecture` runs it; the self-tests at the bottom show that each rule
//! fails on a deliberately bad tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One layer: the files it holds (first matching layer wins), its rank (0 is the bottom) and
/// whether its folders may import each other.
struct Layer {
    name: &'static str,
    rank: u8,
    /// Path patterns relative to `src/`: `dir/` (everything below), `**/name.rs` (a file of that
    /// name anywhere), `**/dir/` (everything below a folder of that name anywhere), or a file.
    holds: &'static [&'static str],
    sideways: bool,
}

/// The layer table. A file may import from a lower layer, from its own top-level folder at the
/// same or a lower rank, and from another folder of the same layer only where `sideways` is true.
const LAYERS: &[Layer] = &[
    Layer {
        name: "domain",
        rank: 0,
        holds: &["domain/"],
        sideways: false,
    },
    Layer {
        name: "repositories",
        rank: 2,
        holds: &["**/repo.rs", "**/repo/", "**/model.rs", "**/model/"],
        sideways: true,
    },
    Layer {
        name: "platform",
        rank: 1,
        holds: &[
            "db/",
            "config.rs",
            "error.rs",
            "telemetry.rs",
            "calendar.rs",
            "connection_age.rs",
            "body_timeout.rs",
            "auth/",
        ],
        sideways: true,
    },
    Layer {
        name: "records",
        rank: 3,
        holds: &["audit/", "outbox/", "notices/", "idempotency/"],
        sideways: true,
    },
    Layer {
        name: "capabilities",
        rank: 4,
        holds: &[
            "decisions/",
            "appeals/",
            "feedback/",
            "models/",
            "webhooks/",
            "breaches/",
            "engines/",
            "sessions/",
        ],
        sideways: false,
    },
    Layer {
        name: "use cases spanning capabilities",
        rank: 5,
        holds: &["ingestion/", "subjects/", "reports/"],
        sideways: false,
    },
    Layer {
        name: "edge",
        rank: 6,
        holds: &["api/", "ui/"],
        sideways: false,
    },
    Layer {
        name: "startup",
        rank: 7,
        holds: &["startup.rs"],
        sideways: false,
    },
    Layer {
        name: "entry",
        rank: 8,
        holds: &["lib.rs", "main.rs", "cli.rs", "demo.rs", "bin/"],
        sideways: true,
    },
];

/// Where diesel may build queries: the repositories (rows and queries) and the database layer.
fn may_query(rel: &str) -> bool {
    rel.starts_with("db/") || layer_of(rel).is_some_and(|l| l.name == "repositories")
}

/// Calls that open a transaction or write outside `Db::write`; only `db/` may make them.
const WRITE_STARTERS: &[&str] = &[
    "write_tx(",
    ".transaction(",
    "build_transaction(",
    "immediate_transaction(",
];

fn matches(pattern: &str, rel: &str) -> bool {
    if let Some(name) = pattern.strip_prefix("**/") {
        return match name.strip_suffix('/') {
            Some(dir) => rel.split('/').rev().skip(1).any(|seg| seg == dir),
            None => rel.rsplit('/').next() == Some(name),
        };
    }
    match pattern.strip_suffix('/') {
        Some(dir) => rel.starts_with(&format!("{dir}/")),
        None => rel == pattern,
    }
}

fn layer_of(rel: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.holds.iter().any(|p| matches(p, rel)))
}

/// The top-level folder (or file stem) a file lives in: `appeals/queue.rs` -> `appeals`.
fn home(rel: &str) -> &str {
    let first = rel.split('/').next().unwrap_or(rel);
    first.strip_suffix(".rs").unwrap_or(first)
}

// ---------------------------------------------------------------------------------------------
// Reading source text

/// The source with comments, string and char literals blanked out (newlines kept, so offsets
/// still give line numbers).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (1, i + 2);
                while j < b.len() && depth > 0 {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && (i == 0 || !is_ident(b[i - 1])) => {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let start = i + 2 + hashes;
                let end = find(b, start, &close).map_or(b.len(), |p| p + close.len());
                blank(&mut out, start, end.saturating_sub(close.len()));
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i + 1, j.min(b.len()));
                i = j + 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only the first is blanked.
                if b.get(i + 1) == Some(&b'\\') {
                    let end = b[i + 2..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map_or(b.len(), |p| i + 2 + p);
                    blank(&mut out, i + 1, end);
                    i = end + 1;
                } else if let Some(len) = src[i + 1..]
                    .chars()
                    .next()
                    .map(char::len_utf8)
                    .filter(|&len| b.get(i + 1 + len) == Some(&b'\''))
                {
                    blank(&mut out, i + 1, i + 1 + len);
                    i += len + 2;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    without_test_modules(&text)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    (from..hay.len().saturating_sub(needle.len() - 1)).find(|&p| hay[p..].starts_with(needle))
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Blanks every `#[cfg(test)] mod name { ... }`: unit tests may reach anywhere.
fn without_test_modules(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(p) = code[from..].find("#[cfg(test)]") {
        let start = from + p;
        let rest = &code[start + "#[cfg(test)]".len()..];
        let trimmed = rest.trim_start();
        let after_attr = code.len() - trimmed.len();
        if let Some(open) = trimmed.strip_prefix("mod ").and_then(|m| m.find('{')) {
            let open = after_attr + 4 + open;
            let mut depth = 0;
            let mut end = code.len();
            for (k, c) in code[open..].bytes().enumerate() {
                match c {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + k + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            for c in &mut out[start..end] {
                if *c != b'\n' {
                    *c = b' ';
                }
            }
            from = end;
        } else {
            from = start + 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path named in the code, with the line it is on.
struct Named {
    segments: Vec<String>,
    line: usize,
}

fn line_at(code: &str, offset: usize) -> usize {
    code[..offset].bytes().filter(|&c| c == b'\n').count() + 1
}

/// Every path the code names: the expanded trees of `use` declarations and inline paths that
/// start with a keyword or a crate name (`crate::`, `super::`, `self::`, `recourse::`, `diesel::`).
fn named_paths(code: &str) -> Vec<Named> {
    let mut found = Vec::new();
    let mut rest = code.to_string();
    // `use` declarations first, then blank them so their paths are not read twice.
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(p) = code[i..].find("use ") {
        let at = i + p;
        i = at + 4;
        if at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':') {
            continue;
        }
        let Some(end) = code[at..].find(';').map(|e| at + e) else {
            break;
        };
        let tree = code[at + 4..end].split_whitespace().collect::<Vec<_>>().join(" ");
        let line = line_at(code, at);
        for path in expand_use_tree(&tree) {
            found.push(Named { segments: path, line });
        }
        rest.replace_range(at..end, &" ".repeat(end - at));
        i = end;
    }
    let rb = rest.as_bytes();
    let mut j = 0;
    while j < rb.len() {
        if is_ident(rb[j]) && (j == 0 || (!is_ident(rb[j - 1]) && rb[j - 1] != b':')) {
            let start = j;
            let mut segments = Vec::new();
            let mut k = j;
            loop {
                let s = k;
                while k < rb.len() && is_ident(rb[k]) {
                    k += 1;
                }
                segments.push(rest[s..k].to_string());
                let mut m = k;
                while m < rb.len() && rb[m] == b' ' {
                    m += 1;
                }
                if rest[m..].starts_with("::") {
                    m += 2;
                    while m < rb.len() && rb[m] == b' ' {
                        m += 1;
                    }
                    if m < rb.len() && is_ident(rb[m]) {
                        k = m;
                        continue;
                    }
                }
                break;
            }
            if segments.len() > 1 && ["crate", "super", "self", "recourse", "diesel"].contains(&segments[0].as_str()) {
                found.push(Named {
                    segments,
                    line: line_at(&rest, start),
                });
            }
            j = k.max(j + 1);
        } else {
            j += 1;
        }
    }
    found
}

/// `a::{b, c::{d, self}}` -> `a::b`, `a::c::d`, `a::c`. Renames (`as x`) and globs are dropped.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    fn split_top(s: &str) -> Vec<&str> {
        let (mut depth, mut from, mut parts) = (0, 0, Vec::new());
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[from..]);
        parts.into_iter().filter(|p| !p.is_empty()).collect()
    }
    fn walk(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim().trim_start_matches("::");
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = tree[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let base: Vec<String> = prefix.iter().cloned().chain(head).collect();
            for part in split_top(inner) {
                walk(&base, part, out);
            }
            return;
        }
        let leaf = tree.split(" as ").next().unwrap_or(tree);
        let mut path: Vec<String> = prefix.to_vec();
        for seg in leaf.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "*") {
            if seg != "self" || path.is_empty() {
                path.push(seg.to_string());
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    // `use` trees written with a `pub`/`pub(crate)` in front were cut at "use ", so only the
    // tree is here; strip a leading `::`.
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// The module tree and the rules

/// A source file: its path relative to `src/`, the crate it belongs to and its module path.
struct SourceFile {
    rel: String,
    krate: String,
    module: Vec<String>,
    code: String,
}

fn source_file(rel: &str, text: &str) -> SourceFile {
    let (krate, inner) = if rel == "main.rs" {
        ("main".to_string(), String::new())
    } else if let Some(bin) = rel.strip_prefix("bin/") {
        match bin.split_once('/') {
            Some((name, file)) => (name.to_string(), file.to_string()),
            None => (bin.trim_end_matches(".rs").to_string(), String::new()),
        }
    } else {
        ("lib".to_string(), rel.to_string())
    };
    let mut module: Vec<String> = inner.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main" | "")) {
        module.pop();
    }
    SourceFile {
        rel: rel.to_string(),
        krate,
        module,
        code: code_only(text),
    }
}

#[derive(Debug, Default)]
struct Findings {
    problems: Vec<String>,
}

fn check(files: &BTreeMap<String, String>) -> Findings {
    let files: Vec<SourceFile> = files.iter().map(|(rel, text)| source_file(rel, text)).collect();
    let by_module: BTreeMap<(String, Vec<String>), usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| ((f.krate.clone(), f.module.clone()), i))
        .collect();
    let mut findings = Findings::default();
    let mut arrows: BTreeSet<(usize, usize)> = BTreeSet::new();

    for (i, file) in files.iter().enumerate() {
        if layer_of(&file.rel).is_none() {
            findings
                .problems
                .push(format!("src/{}: not in the layer table; add it to LAYERS", file.rel));
            continue;
        }
        for named in named_paths(&file.code) {
            let at = format!("src/{}:{}", file.rel, named.line);
            let joined = named.segments.join("::");
            if named.segments[0] == "diesel"
                && !may_query(&file.rel)
                && named.segments.get(1).map(String::as_str) != Some("result")
            {
                findings.problems.push(format!(
                    "{at}: `{joined}` builds queries outside the repositories and db/"
                ));
                continue;
            }
            let Some((krate, target)) = absolute(file, &named.segments, &by_module) else {
                continue;
            };
            if target.windows(2).any(|w| w[0] == "db" && w[1] == "schema") && !may_query(&file.rel) {
                findings.problems.push(format!(
                    "{at}: `{joined}` names a table outside the repositories and db/"
                ));
            }
            if let Some(j) = (1..=target.len())
                .rev()
                .find_map(|n| by_module.get(&(krate.clone(), target[..n].to_vec())))
                .copied()
                && j != i
            {
                if let Some(why) = forbidden(&files[i].rel, &files[j].rel) {
                    findings
                        .problems
                        .push(format!("{at}: `{joined}` imports src/{} ({why})", files[j].rel));
                }
                arrows.insert((i, j));
            }
        }
        if !file.rel.starts_with("db/") {
            for starter in WRITE_STARTERS {
                for (offset, _) in file.code.match_indices(starter) {
                    let before = file.code[..offset].bytes().last();
                    if starter.starts_with('.') || !before.is_some_and(is_ident) {
                        findings.problems.push(format!(
                            "src/{}:{}: `{starter}` starts a write outside Db::write",
                            file.rel,
                            line_at(&file.code, offset)
                        ));
                    }
                }
            }
        }
        if !(file.rel.starts_with("db/") || file.rel == "cli.rs") && file.code.contains(".maintain(") {
            findings.problems.push(format!(
                "src/{}: Db::maintain (no transaction) is for maintenance commands only",
                file.rel
            ));
        }
    }
    for circle in circles(files.len(), &arrows) {
        let names: Vec<String> = circle.iter().map(|&k| format!("src/{}", files[k].rel)).collect();
        findings.problems.push(format!(
            "import circle through {} files: {}",
            names.len(),
            names.join(", ")
        ));
    }
    findings
}

/// The module path (crate, segments) a named path points into, or None for other crates.
fn absolute(
    file: &SourceFile,
    segments: &[String],
    by_module: &BTreeMap<(String, Vec<String>), usize>,
) -> Option<(String, Vec<String>)> {
    let (krate, mut path, rest) = match segments[0].as_str() {
        "crate" => (file.krate.clone(), Vec::new(), &segments[1..]),
        "recourse" if file.krate != "lib" => ("lib".to_string(), Vec::new(), &segments[1..]),
        "self" => (file.krate.clone(), file.module.clone(), &segments[1..]),
        "super" => {
            let mut base = file.module.clone();
            let mut k = 0;
            while segments.get(k).map(String::as_str) == Some("super") {
                base.pop();
                k += 1;
            }
            (file.krate.clone(), base, &segments[k..])
        }
        child => {
            // A relative path to a child module (`use model::Row;` in a mod.rs).
            let mut candidate = file.module.clone();
            candidate.push(child.to_string());
            if !by_module.contains_key(&(file.krate.clone(), candidate)) {
                return None;
            }
            (file.krate.clone(), file.module.clone(), segments)
        }
    };
    path.extend(rest.iter().cloned());
    Some((krate, path))
}

/// Why an arrow from `from` to `to` (paths relative to src/) breaks the layering, if it does.
fn forbidden(from: &str, to: &str) -> Option<String> {
    let (a, b) = (layer_of(from)?, layer_of(to)?);
    let same_home = home(from) == home(to);
    if from.starts_with("bin/") || from == "main.rs" {
        return None;
    }
    if a.rank == 0 && b.rank != 0 {
        return Some("domain imports nothing from the crate outside domain".into());
    }
    if b.rank > a.rank {
        return Some(format!(
            "{} (layer {}) may not import {} (layer {})",
            a.name, a.rank, b.name, b.rank
        ));
    }
    if b.rank == a.rank && !same_home && !a.sideways {
        return Some(format!(
            "{} may not import a sibling of the same layer: a use case spanning both lives above them",
            a.name
        ));
    }
    None
}

/// Strongly connected components with more than one file (Tarjan), each sorted.
fn circles(n: usize, arrows: &BTreeSet<(usize, usize)>) -> Vec<Vec<usize>> {
    struct State<'a> {
        next: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        found: &'a mut Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for w in s.next[v].clone() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort_unstable();
                s.found.push(component);
            }
        }
    }
    let mut found = Vec::new();
    let mut next = vec![Vec::new(); n];
    for &(a, b) in arrows {
        next[a].push(b);
    }
    let mut state = State {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        found: &mut found,
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    found
}

fn read_tree(root: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            into.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn src_keeps_its_layers_its_repositories_and_its_one_write_entry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_tree(&root, &root, &mut files);
    assert!(
        files.len() > 50,
        "read only {} files from {}",
        files.len(),
        root.display()
    );
    let findings = check(&files);
    assert!(
        findings.problems.is_empty(),
        "{} architecture problems (rules: docs/ARCHITECTURE.md, table: tests/architecture.rs):\n{}",
        findings.problems.len(),
        findings.problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The check itself, on small deliberately bad trees.

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    check(&tree(files)).problems
}

#[test]
fn a_clean_tree_passes() {
    let found = problems(&[
        ("lib.rs", "pub mod domain; pub mod appeals; pub mod api;"),
        ("domain/mod.rs", "pub mod appeal;"),
        (
            "domain/appeal.rs",
            "pub struct Draft; // crate::api::x in a comment is not an import\nconst S: &str = \"crate::api::y\";",
        ),
        ("appeals/mod.rs", "pub mod repo;\nuse crate::domain::appeal::Draft;"),
        (
            "appeals/repo.rs",
            "use diesel::prelude::*;\nuse crate::db::schema::appeals;",
        ),
        (
            "api/mod.rs",
            "use crate::{appeals::{self, repo}, domain::appeal::Draft};\nfn f() { crate::appeals::repo::x(); }",
        ),
    ]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_domain_importing_the_api_fails() {
    let found = problems(&[
        ("lib.rs", ""),
        ("domain/mod.rs", "use crate::api::openapi::Ident64;"),
        ("api/openapi.rs", "use crate::domain::Draft;"),
    ]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("src/domain/mod.rs:1") && p.contains("domain imports nothing")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|p| p.contains("import circle through 2 files")),
        "{found:#?}"
    );
}

#[test]
fn an_import_up_the_layers_fails_even_inline_or_in_a_group() {
    let found = problems(&[
        ("lib.rs", ""),
        ("appeals/mod.rs", "fn f() {\n    crate::api::thing();\n}"),
        ("audit/mod.rs", "use crate::{outbox, subjects::{self, erasure::X}};"),
        ("api/mod.rs", ""),
        ("outbox/mod.rs", ""),
        ("subjects/mod.rs", ""),
        ("subjects/erasure.rs", ""),
    ]);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("src/appeals/mod.rs:2") && p.contains("layer 6")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("src/audit/mod.rs:1: `crate::subjects::erasure::X`")),
        "{found:#?}"
    );
    assert!(!found.iter().any(|p| p.contains("outbox")), "{found:#?}");
}

#[test]
fn a_capability_importing_a_sibling_service_fails_but_its_repository_is_fine() {
    let found = problems(&[
        ("lib.rs", ""),
        (
            "decisions/service.rs",
            "use crate::appeals::service::file;\nuse crate::appeals::repo::load;",
        ),
        ("appeals/service.rs", ""),
        ("appeals/repo.rs", "use super::AppealError;"),
        ("appeals/mod.rs", ""),
    ]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("decisions/service.rs:1") && p.contains("sibling")),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|p| p.contains("decisions/service.rs:2")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("appeals/repo.rs:1") && p.contains("layer 4")),
        "{found:#?}"
    );
}

#[test]
fn queries_and_transactions_outside_their_homes_fail() {
    let found = problems(&[
        ("lib.rs", ""),
        (
            "feedback/feed.rs",
            "use diesel::prelude::*;\nuse crate::db::schema::outbox;\nfn f(){ write_tx(c, |c| Ok(())); c.transaction(|c| Ok(())); }\nfn g(e: diesel::result::Error){}",
        ),
        (
            "db/mod.rs",
            "pub mod schema; fn write_tx(){} fn h(){ c.transaction(|c| Ok(())); }",
        ),
        ("db/schema.rs", ""),
    ]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("feed.rs:1") && p.contains("builds queries")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("feed.rs:2") && p.contains("names a table")),
        "{found:#?}"
    );
    assert_eq!(
        found.iter().filter(|p| p.contains("starts a write")).count(),
        2,
        "{found:#?}"
    );
    assert!(!found.iter().any(|p| p.contains("feed.rs:4")), "{found:#?}");
    assert!(!found.iter().any(|p| p.contains("src/db/")), "{found:#?}");
}

#[test]
fn a_file_missing_from_the_table_fails() {
    let found = problems(&[("lib.rs", ""), ("gadgets/mod.rs", "")]);
    assert_eq!(found, ["src/gadgets/mod.rs: not in the layer table; add it to LAYERS"]);
}
