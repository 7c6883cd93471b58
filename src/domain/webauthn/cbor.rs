//! The part of CBOR (RFC 8949) that WebAuthn uses: unsigned and negative integers, byte and
//! text strings, arrays, maps, simple values (false, true, null) and floats (read, not kept).
//! Definite lengths only (CTAP2 canonical form has no others); nesting and sizes are bounded.

/// A decoded item.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Both major types 0 and 1, as i128 so every 64-bit value fits.
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Bool(bool),
    Null,
    /// A float or another simple value: present, not interpreted.
    Other,
}

impl Value {
    /// The value of the first entry whose key is the integer `key` (COSE keys).
    pub fn get_int(&self, key: i128) -> Option<&Value> {
        self.entries()?
            .iter()
            .find(|(k, _)| *k == Value::Int(key))
            .map(|(_, v)| v)
    }

    /// The value of the first entry whose key is the text `key`.
    pub fn get_text(&self, key: &str) -> Option<&Value> {
        self.entries()?
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }

    fn entries(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 16;
/// Most entries one array or map may announce (a length is never trusted for allocation).
const MAX_ITEMS: u64 = 1024;

/// Decodes one item at the start of `input`; answers it and how many bytes it took (the
/// rest may be something else: the extensions after a credential key).
pub fn decode_prefix(input: &[u8]) -> Option<(Value, usize)> {
    let mut r = Reader { input, pos: 0 };
    let v = r.item(0)?;
    Some((v, r.pos))
}

/// Decodes exactly one item: trailing bytes are an error.
pub fn decode(input: &[u8]) -> Option<Value> {
    match decode_prefix(input)? {
        (v, used) if used == input.len() => Some(v),
        _ => None,
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.input.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// The argument of an initial byte (additional info 0–27; 28–31 refused).
    fn argument(&mut self, info: u8) -> Option<u64> {
        Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        })
    }

    fn item(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            return match info {
                20 => Some(Value::Bool(false)),
                21 => Some(Value::Bool(true)),
                22 | 23 => Some(Value::Null),
                24 => self.take(1).map(|_| Value::Other),
                25 => self.take(2).map(|_| Value::Other),
                26 => self.take(4).map(|_| Value::Other),
                27 => self.take(8).map(|_| Value::Other),
                0..=19 => Some(Value::Other),
                _ => None,
            };
        }
        let arg = self.argument(info)?;
        match major {
            0 => Some(Value::Int(i128::from(arg))),
            1 => Some(Value::Int(-1 - i128::from(arg))),
            2 => Some(Value::Bytes(
                self.take(usize::try_from(arg).ok()?)?.to_vec(),
            )),
            3 => {
                let b = self.take(usize::try_from(arg).ok()?)?;
                Some(Value::Text(String::from_utf8(b.to_vec()).ok()?))
            }
            4 => {
                if arg > MAX_ITEMS {
                    return None;
                }
                let mut items = Vec::new();
                for _ in 0..arg {
                    items.push(self.item(depth + 1)?);
                }
                Some(Value::Array(items))
            }
            5 => {
                if arg > MAX_ITEMS {
                    return None;
                }
                let mut entries = Vec::new();
                for _ in 0..arg {
                    let k = self.item(depth + 1)?;
                    let v = self.item(depth + 1)?;
                    entries.push((k, v));
                }
                Some(Value::Map(entries))
            }
            // Tags (6): WebAuthn structures carry none.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Examples from RFC 8949 Appendix A.
    #[test]
    fn rfc_8949_examples() {
        assert_eq!(decode(&hex("00")), Some(Value::Int(0)));
        assert_eq!(decode(&hex("17")), Some(Value::Int(23)));
        assert_eq!(decode(&hex("1818")), Some(Value::Int(24)));
        assert_eq!(decode(&hex("1903e8")), Some(Value::Int(1000)));
        assert_eq!(
            decode(&hex("1bffffffffffffffff")),
            Some(Value::Int(18446744073709551615))
        );
        assert_eq!(decode(&hex("20")), Some(Value::Int(-1)));
        assert_eq!(decode(&hex("3863")), Some(Value::Int(-100)));
        assert_eq!(
            decode(&hex("3bffffffffffffffff")),
            Some(Value::Int(-18446744073709551616))
        );
        assert_eq!(
            decode(&hex("4401020304")),
            Some(Value::Bytes(vec![1, 2, 3, 4]))
        );
        assert_eq!(decode(&hex("6449455446")), Some(Value::Text("IETF".into())));
        assert_eq!(decode(&hex("f4")), Some(Value::Bool(false)));
        assert_eq!(decode(&hex("f6")), Some(Value::Null));
        assert_eq!(decode(&hex("f93c00")), Some(Value::Other));
        assert_eq!(
            decode(&hex("8301820203820405")),
            Some(Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![Value::Int(2), Value::Int(3)]),
                Value::Array(vec![Value::Int(4), Value::Int(5)]),
            ]))
        );
        let m = decode(&hex("a201020304")).unwrap();
        assert_eq!(m.get_int(1), Some(&Value::Int(2)));
        assert_eq!(m.get_int(3), Some(&Value::Int(4)));
        let m = decode(&hex("a26161016162820203")).unwrap();
        assert_eq!(m.get_text("a"), Some(&Value::Int(1)));
    }

    #[test]
    fn truncated_indefinite_tagged_and_trailing_input_is_refused() {
        assert_eq!(decode(&hex("1903")), None);
        assert_eq!(
            decode(&hex("5f42010243030405ff")),
            None,
            "indefinite length"
        );
        assert_eq!(decode(&hex("c11a514b67b0")), None, "tag");
        assert_eq!(decode(&hex("0000")), None, "trailing byte");
        assert_eq!(decode(&hex("44010203")), None, "short byte string");
        assert_eq!(decode(&hex("9bffffffffffffffff")), None, "huge array");
        assert_eq!(decode(&[0x81; 40]), None, "too deep");
        assert_eq!(decode_prefix(&hex("0102")), Some((Value::Int(1), 1)));
    }
}
