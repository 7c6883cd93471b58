//! Form field errors: which field, which locale key.

/// Messages to show next to fields; `_form` is the whole form.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(String, &'static str)>);

impl FieldErrors {
    /// Records an error for a field (the first one per field is shown).
    pub fn add(&mut self, field: impl Into<String>, key: &'static str) {
        let field = field.into();
        if self.get(&field).is_none() {
            self.0.push((field, key));
        }
    }

    /// The locale key of a field's error.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, k)| *k)
    }

    /// The locale key of the error of field `{a}.{b}` (for per-item fields).
    pub fn get_at(&self, a: &str, b: &str) -> Option<&'static str> {
        self.0
            .iter()
            .find(|(f, _)| {
                f.len() == a.len() + 1 + b.len()
                    && f.starts_with(a)
                    && f.ends_with(b)
                    && f.as_bytes()[a.len()] == b'.'
            })
            .map(|(_, k)| *k)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the value or records the error.
    pub fn take<T>(&mut self, field: impl Into<String>, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(k) => {
                self.add(field, k);
                None
            }
        }
    }
}

/// The form of a button that posts nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct Nothing {}
