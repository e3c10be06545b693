//! Reading the files every command is given (`-` is stdin), bounded: reading stops past a
//! size limit or at the first NUL byte (no JSON, YAML or journal holds one), so `/dev/zero`
//! read through `-` costs one chunk, not the machine's memory. Errors say what was wrong;
//! the caller names the file (with [`shown`]).

use std::fs::File;
use std::io::{self, Read};

use anyhow::bail;
use immutag_core::text::printable;

/// The size of one read.
const CHUNK: usize = 64 * 1024;

/// The most a policy document can be and still be an IAM policy (6,144 characters for a
/// managed policy; 5,120 for an SCP), with room for the describe-policy wrapper.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Reads `file` (`-`: stdin) into memory, refusing a directory, more than `limit` bytes, or
/// a NUL byte.
pub fn read_bytes(file: &str, limit: usize) -> anyhow::Result<Vec<u8>> {
    if file == "-" {
        if io::IsTerminal::is_terminal(&io::stdin()) {
            eprintln!("immutag: reading stdin (end with Ctrl-D); pipe input or name files instead");
        }
        return read_bounded(&mut io::stdin().lock(), 0, limit);
    }
    let f = File::open(file).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
    let meta = f
        .metadata()
        .map_err(|e| anyhow::anyhow!("cannot read: {e}"))?;
    if meta.is_dir() {
        bail!("is a directory, not a file");
    }
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if meta.is_file() && size > limit {
        bail!("is {size} bytes, over the limit of {limit} bytes");
    }
    // Exactly the size of a regular file, so that a large input is not held twice over.
    let expected = if meta.is_file() { size } else { 0 };
    read_bounded(&mut { f }, expected, limit)
}

/// [`read_bytes`], as UTF-8 text.
pub fn read_text(file: &str, limit: usize) -> anyhow::Result<String> {
    let bytes = read_bytes(file, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// How a file is named in messages: `(stdin)` for `-`, control characters escaped.
pub fn shown(file: &str) -> String {
    if file == "-" {
        "(stdin)".to_owned()
    } else {
        printable(file).into_owned()
    }
}

fn read_bounded(r: &mut dyn Read, expected: usize, limit: usize) -> anyhow::Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected.saturating_add(1).min(limit + 1));
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => bail!("cannot read: {e}"),
        };
        let got = &chunk[..n];
        if let Some(i) = got.iter().position(|&b| b == 0) {
            bail!(
                "holds a NUL byte at offset {}: not JSON or YAML text",
                out.len() + i
            );
        }
        if out.len() + n > limit {
            bail!("is over the limit of {limit} bytes");
        }
        out.extend_from_slice(got);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_stop_early() {
        let mut zeros = io::repeat(0).take(1 << 30);
        let e = read_bounded(&mut zeros, 0, 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(e.contains("NUL byte at offset 0"), "{e}");
        let mut big = io::repeat(b' ').take(1 << 30);
        let e = read_bounded(&mut big, 0, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("over the limit"), "{e}");
        let mut ok = &b"{\"a\":1}"[..];
        assert_eq!(read_bounded(&mut ok, 7, 100).unwrap(), b"{\"a\":1}");
    }

    #[test]
    fn files_directories_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert!(
            read_bytes(d, 100)
                .unwrap_err()
                .to_string()
                .contains("directory")
        );
        let f = dir.path().join("x.json");
        std::fs::write(&f, "caf\u{e9} \u{1b}").unwrap();
        let f = f.to_str().unwrap();
        assert_eq!(read_text(f, 100).unwrap(), "caf\u{e9} \u{1b}");
        assert!(
            read_bytes(f, 3)
                .unwrap_err()
                .to_string()
                .contains("over the limit")
        );
        std::fs::write(f, b"\xff\xfe").unwrap();
        assert!(
            read_text(f, 100)
                .unwrap_err()
                .to_string()
                .contains("offset 0")
        );
        assert!(
            read_bytes(&format!("{d}/none"), 9)
                .unwrap_err()
                .to_string()
                .contains("cannot open")
        );
        assert_eq!(shown("-"), "(stdin)");
        assert_eq!(shown("a\u{1b}b"), "a\\u{1b}b");
    }
}
