//! The gateway-log scanner alone over a file, read 1 MiB at a time (as `check-log` does):
//! prints the whole result as JSON, for counting instructions and comparing results.
//! `cargo run --release --example scan_harness -- FILE [CHUNK]`

use std::io::Read;

use secportal::domain::gatewaylog::Scanner;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_default();
    let chunk: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(1 << 20);
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; chunk];
    let mut s = Scanner::new();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Err(r) = s.feed(&buf[..n]) {
            println!("refused: {r:?}");
            return Ok(());
        }
    }
    match s.finish() {
        Ok(c) => println!("{}", serde_json::to_string(&c).unwrap_or_default()),
        Err(r) => println!("refused: {r:?}"),
    }
    Ok(())
}
