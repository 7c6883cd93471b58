//! What a personal access token (個人用アクセストークン) may do: its scopes, and which scopes
//! each role may hold at all.

use super::Role;

/// One permission a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenScope {
    /// Read the organisation's checklist, submissions, receipts and instructions.
    ReportsRead,
    /// Create drafts, push rows, upload files, submit, answer instructions.
    ReportsWrite,
    /// Read the review queue, sealed contents, instructions and requests (Center).
    ReviewRead,
    /// Decide, issue instructions and requests (Center).
    ReviewWrite,
    /// Pull exports (Center).
    ExportsRead,
}

impl TokenScope {
    pub const ALL: [TokenScope; 5] = [
        TokenScope::ReportsRead,
        TokenScope::ReportsWrite,
        TokenScope::ReviewRead,
        TokenScope::ReviewWrite,
        TokenScope::ExportsRead,
    ];

    /// The name in requests, forms and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReportsRead => "reports:read",
            TokenScope::ReportsWrite => "reports:write",
            TokenScope::ReviewRead => "review:read",
            TokenScope::ReviewWrite => "review:write",
            TokenScope::ExportsRead => "exports:read",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The locale key of its description.
    pub fn label_key(self) -> &'static str {
        match self {
            TokenScope::ReportsRead => "token.scope.reports_read",
            TokenScope::ReportsWrite => "token.scope.reports_write",
            TokenScope::ReviewRead => "token.scope.review_read",
            TokenScope::ReviewWrite => "token.scope.review_write",
            TokenScope::ExportsRead => "token.scope.exports_read",
        }
    }

    /// The scopes a role may give a token: an organisation's staff report, the Center reviews
    /// and exports.
    pub fn allowed_for(role: Role) -> &'static [TokenScope] {
        match role {
            Role::OrgMember | Role::OrgAdmin => {
                &[TokenScope::ReportsRead, TokenScope::ReportsWrite]
            }
            Role::Reviewer | Role::CenterAdmin => &[
                TokenScope::ReviewRead,
                TokenScope::ReviewWrite,
                TokenScope::ExportsRead,
            ],
        }
    }
}

/// A set of scopes, stored space-separated in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenScopes(Vec<TokenScope>);

impl TokenScopes {
    /// From stored text; unknown names are dropped (a scope retired later grants nothing).
    pub fn parse(stored: &str) -> TokenScopes {
        TokenScopes::from_iter(stored.split_whitespace().filter_map(TokenScope::parse))
    }

    /// As stored.
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn contains(&self, scope: TokenScope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = TokenScope> + '_ {
        self.0.iter().copied()
    }

    /// Only those the role may hold now (a role changed since the token was made narrows it).
    pub fn within(&self, role: Role) -> TokenScopes {
        let allowed = TokenScope::allowed_for(role);
        TokenScopes::from_iter(self.iter().filter(|s| allowed.contains(s)))
    }
}

impl FromIterator<TokenScope> for TokenScopes {
    fn from_iter<I: IntoIterator<Item = TokenScope>>(iter: I) -> Self {
        let mut v: Vec<TokenScope> = iter.into_iter().collect();
        v.sort();
        v.dedup();
        TokenScopes(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_in_a_fixed_order_and_unknown_names_grant_nothing() {
        let s = TokenScopes::parse("reports:write admin:all reports:read reports:write");
        assert_eq!(s.to_stored(), "reports:read reports:write");
    }

    #[test]
    fn a_token_of_a_member_who_became_center_staff_keeps_no_org_scope() {
        let s = TokenScopes::parse("reports:read reports:write");
        assert!(s.within(Role::Reviewer).is_empty());
        assert_eq!(s.within(Role::OrgMember), s);
    }
}
