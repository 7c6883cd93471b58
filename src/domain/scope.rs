//! Whose data a caller may read: one organisation's, or (Center staff) every one's.

use uuid::Uuid;

/// The tenant scope every store read of tenant data takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this organisation's rows.
    Org(Uuid),
    /// Center staff: every organisation.
    Center,
}

impl Scope {
    /// The organisation filter to bind: `None` means no filter.
    pub fn org_filter(self) -> Option<Uuid> {
        match self {
            Scope::Org(id) => Some(id),
            Scope::Center => None,
        }
    }
}
