//! The four roles.

use serde::{Deserialize, Serialize};

/// Who a user is in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff of a user company.
    OrgMember,
    /// The company's 管理責任者: manages its members and structure.
    OrgAdmin,
    /// NACCS Center staff working the review queue.
    Reviewer,
    /// NACCS Center administrator.
    CenterAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::OrgMember,
        Role::OrgAdmin,
        Role::Reviewer,
        Role::CenterAdmin,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OrgMember => "org_member",
            Role::OrgAdmin => "org_admin",
            Role::Reviewer => "reviewer",
            Role::CenterAdmin => "center_admin",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role belongs to an organisation (rather than the Center).
    pub fn is_org(self) -> bool {
        matches!(self, Role::OrgMember | Role::OrgAdmin)
    }

    /// Whether the role is Center staff.
    pub fn is_center(self) -> bool {
        !self.is_org()
    }

    /// The locale key of the role's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::OrgMember => "role.org_member",
            Role::OrgAdmin => "role.org_admin",
            Role::Reviewer => "role.reviewer",
            Role::CenterAdmin => "role.center_admin",
        }
    }
}
