//! How much a check split across two threads could gain (issue 11): the scanner over a file
//! held in memory, on one thread, then split in two at a line end, each half on its own thread
//! with its own scanner (the header fed to the second first). The results are not merged: the
//! line counts are printed to show both covered the file. Three rounds.
//! `cargo run --release --example scan_split -- FILE`
use secportal::domain::gatewaylog::Scanner;

fn scan(parts: &[&[u8]]) -> u64 {
    let mut s = Scanner::new();
    for p in parts {
        for c in p.chunks(256 * 1024) {
            if s.feed(c).is_err() {
                return 0;
            }
        }
    }
    s.finish().map(|c| c.lines).unwrap_or(0)
}

fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_default();
    let all = std::fs::read(path)?;
    let header_end = all.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mid = all.len() / 2;
    let cut = mid
        + all[mid..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let n = scan(&[&all]);
        let one = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| scan(&[&all[..cut]]));
            let b = s.spawn(|| scan(&[&all[..header_end], &all[cut..]]));
            (a.join().unwrap_or(0), b.join().unwrap_or(0))
        });
        let two = t.elapsed().as_secs_f64();
        println!(
            "one thread {one:.3} s ({n} lines); two {two:.3} s ({} lines)",
            a + b
        );
    }
    Ok(())
}
