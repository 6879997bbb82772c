//! The domain crate's layers (`shared/src/lib.rs`, `docs/architecture.md`):
//! each top-level module names only modules in layers below its own, read
//! from the source text as `crate::` paths outside comments and test
//! modules. And no cycles between its second-level modules either, by the
//! team's `modcycles.py` (`../shared/tools/`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use conduit_tests::workspace_root;

/// Top down; a module may use the ones in later rows. Modules in one row
/// (`store` and `auth`) may not use each other.
const LAYERS: &[&[&str]] = &[
    &["lambda"],
    &["openapi"],
    &["api", "provision"],
    &["idempotency"],
    &["http"],
    &["app"],
    &["store", "auth"],
    &["config"],
    &["invocation"],
    &["telemetry"],
    &["domain"],
];

/// Names `lib.rs` re-exports at the crate root, and the module they live in.
const ROOT_REEXPORTS: &[(&str, &str)] = &[("App", "app"), ("InitError", "app")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file: test modules (from `#[cfg(test)]` to the end, where
/// this crate keeps them) and comments left out.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::` paths,
/// grouped (`crate::{a, b::c}`) or not.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let heads: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .collect(),
            None => vec![rest],
        };
        for head in heads {
            let name: String = head
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = ROOT_REEXPORTS
                .iter()
                .find(|(export, _)| *export == name)
                .map_or(name.clone(), |(_, module)| module.to_string());
            if !module.is_empty() {
                named.insert(module);
            }
        }
    }
    named
}

/// Each `a -> b` where module `a` names `b` against the layering.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("a file under src");
        let first = relative.components().next().expect("a path");
        let module = first.as_os_str().to_string_lossy();
        let module = module.trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let layer = layer_of(module).unwrap_or_else(|| {
            panic!(
                "{module} (shared/src/{}) has no layer in LAYERS",
                relative.display()
            )
        });
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for named in named_modules(&code(&text)) {
            if named == module {
                continue;
            }
            let allowed = layer_of(&named).is_some_and(|below| below > layer);
            if !allowed {
                found.push(format!("{module} -> {named} ({})", relative.display()));
            }
        }
    }
    found
}

#[test]
fn every_module_of_the_domain_crate_uses_only_layers_below_its_own() {
    let src = workspace_root().join("shared/src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the layers:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_grouped_paths_root_reexports_and_skips_comments_and_tests() {
    let text = "use crate::{domain::Username, http};\nuse crate::App;\n\
                // see crate::lambda\nfn f() { crate::store::x(); }\n\
                #[cfg(test)]\nmod tests { use crate::openapi; }\n";
    let named: Vec<String> = named_modules(&code(text)).into_iter().collect();
    assert_eq!(named, ["app", "domain", "http", "store"]);
}

#[test]
fn an_upward_import_is_reported() {
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("store")).expect("a temporary folder");
    std::fs::write(dir.join("store/users.rs"), "use crate::http::ApiError;\n").expect("written");
    std::fs::write(dir.join("domain.rs"), "use crate::store::Store;\n").expect("written");
    let mut found = violations(&dir);
    found.sort();
    std::fs::remove_dir_all(&dir).expect("removed");
    assert_eq!(
        found,
        [
            "domain -> store (domain.rs)",
            "store -> http (store/users.rs)"
        ]
    );
}

#[test]
fn the_domain_crate_has_no_module_cycles_two_levels_deep() {
    let tool = workspace_root().join("../shared/tools/modcycles.py");
    if !tool.is_file() {
        let message = format!(
            "the team's cycle finder is not at {} (the handout folder beside the repository)",
            tool.display()
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("required in CI: {message}");
        }
        eprintln!("SKIPPED: {message}");
        return;
    }
    for depth in ["1", "2"] {
        let output = Command::new("python3")
            .arg(&tool)
            .arg(workspace_root().join("shared/src"))
            .arg(depth)
            .output()
            .expect("python3 runs");
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "modcycles.py failed: {printed}");
        assert_eq!(
            printed.lines().last(),
            Some("0 cycles"),
            "depth {depth}:\n{printed}"
        );
    }
}
