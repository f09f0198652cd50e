//! Release builds of the server on Linux lay out the functions a typical session runs (start,
//! open, edit, outline a manifest; `linker/hot-functions.txt`, made by
//! `scripts/bench/hot-functions`) next to each other, so that the few thousand functions that run
//! take fewer of the code pages the kernel maps 64 KiB at a time: they were spread over a 20 MB
//! code section (docs/benchmarks.md, eighth session). The linker is rust-lld, Rust's default on
//! x86_64 Linux; a name the build no longer has is skipped. `KUBE_LSP_NO_SYMBOL_ORDER=1` turns
//! it off (for a linker without `--symbol-ordering-file`: GNU ld, gold).

fn main() {
    println!("cargo:rerun-if-changed=linker/hot-functions.txt");
    println!("cargo:rerun-if-env-changed=KUBE_LSP_NO_SYMBOL_ORDER");
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let wanted = env("PROFILE") == "release"
        && env("CARGO_CFG_TARGET_OS") == "linux"
        && std::env::var_os("KUBE_LSP_NO_SYMBOL_ORDER").is_none();
    if !wanted {
        return;
    }
    let order = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join("linker/hot-functions.txt");
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}
