//! The requirement catalogue (table 7-4-1 and §7.4.2) and which items apply where.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// 接続形態: how a site connects to NACCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionForm {
    PeerToPeer,
    Router,
    Gateway,
}

impl ConnectionForm {
    pub const ALL: [ConnectionForm; 3] = [
        ConnectionForm::PeerToPeer,
        ConnectionForm::Router,
        ConnectionForm::Gateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionForm::PeerToPeer => "peer_to_peer",
            ConnectionForm::Router => "router",
            ConnectionForm::Gateway => "gateway",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionForm> {
        ConnectionForm::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The locale key of the form's name.
    pub fn label_key(self) -> &'static str {
        match self {
            ConnectionForm::PeerToPeer => "form.peer_to_peer",
            ConnectionForm::Router => "form.router",
            ConnectionForm::Gateway => "form.gateway",
        }
    }
}

/// Where one report of an item is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Organisation,
    /// 事業所
    Office,
    /// ゲートウェイコンピュータ等の設置場所
    GatewaySite,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Organisation => "organisation",
            ScopeKind::Office => "office",
            ScopeKind::GatewaySite => "gateway_site",
        }
    }

    pub fn parse(s: &str) -> Option<ScopeKind> {
        [
            ScopeKind::Organisation,
            ScopeKind::Office,
            ScopeKind::GatewaySite,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// When an item is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Always, and again on change.
    Always,
    /// When the thing it declares exists or changes.
    OnChange,
    /// Only when the Center requests it.
    OnRequest,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Always => "always",
            Trigger::OnChange => "on_change",
            Trigger::OnRequest => "on_request",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        [Trigger::Always, Trigger::OnChange, Trigger::OnRequest]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One requirement of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueItem {
    pub key: String,
    pub number: String,
    pub title_ja: String,
    pub title_en: String,
    pub explanation_ja: String,
    pub explanation_en: String,
    pub forms: Vec<ConnectionForm>,
    pub scopes: Vec<ScopeKind>,
    pub trigger: Trigger,
    #[serde(default)]
    pub renewal_days: Option<i64>,
}

impl CatalogueItem {
    /// The title in the given language code.
    pub fn title(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.title_en
        } else {
            &self.title_ja
        }
    }

    /// The explanation in the given language code.
    pub fn explanation(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.explanation_en
        } else {
            &self.explanation_ja
        }
    }

    /// Whether the item is due whatever the connection form.
    fn applies_to_every_form(&self) -> bool {
        ConnectionForm::ALL.iter().all(|f| self.forms.contains(f))
    }

    /// Whether the item is about the NACCS router of the place (§7.4.2(1): its ports), so
    /// that it is due only where a connection, and with it the router, is recorded.
    fn about_the_router(&self) -> bool {
        self.key == "router_ports"
    }

    /// Whether the item is about the gateway send/receive logs (§7.4.1(6)), so that it is
    /// due where they are kept ([`Unit::keeps_logs`]).
    fn about_the_logs(&self) -> bool {
        self.key == "gateway_logs"
    }
}

/// The catalogue file as shipped in `catalogue/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    pub note: String,
    pub item: Vec<CatalogueItem>,
}

/// The first revision, from the repository.
pub const FIRST_REVISION: &str = include_str!("../../catalogue/naccs-7.4.toml");

/// Parses and checks a catalogue file: unique keys, at least one form and scope per item.
pub fn parse_file(text: &str) -> Result<CatalogueFile, String> {
    let file: CatalogueFile = toml::from_str(text).map_err(|e| e.to_string())?;
    validate(&file.item)?;
    Ok(file)
}

/// Checks a list of items.
pub fn validate(items: &[CatalogueItem]) -> Result<(), String> {
    let mut keys = std::collections::HashSet::new();
    for item in items {
        if item.key.is_empty() || !keys.insert(item.key.as_str()) {
            return Err(format!("item key {:?} is empty or repeated", item.key));
        }
        if item.forms.is_empty() || item.scopes.is_empty() {
            return Err(format!(
                "item {} needs at least one form and one scope",
                item.key
            ));
        }
        if item.title_ja.trim().is_empty() || item.title_en.trim().is_empty() {
            return Err(format!(
                "item {} needs titles in Japanese and English",
                item.key
            ));
        }
        if item.renewal_days.is_some_and(|d| d < 1) {
            return Err(format!("item {}: renewal_days must be positive", item.key));
        }
    }
    Ok(())
}

/// A place a report can be due for: the organisation, an office or a gateway site, with the
/// connection forms in use there.
#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: ScopeKind,
    pub id: Option<Uuid>,
    pub name: String,
    pub forms: Vec<ConnectionForm>,
    /// The gateway send/receive logs are kept here: a gateway site whose gateway computers
    /// connect through a gateway connection of its own or of its office, or an office with a
    /// gateway connection and no gateway site of its own (where it has one, the logs are
    /// kept there).
    pub keeps_logs: bool,
}

/// Whether `item` is due for `unit`. A unit with no connection recorded yet still owes the
/// items every form owes (an office needs its administrator, the organisation its ID
/// declaration, before a line is installed), except the router's ports (there is no router
/// yet); form-specific items wait until a connection of that form exists.
pub fn applies(item: &CatalogueItem, unit: &Unit) -> bool {
    if !item.scopes.contains(&unit.kind) {
        return false;
    }
    if item.about_the_logs() {
        return unit.keeps_logs;
    }
    if unit.forms.is_empty() {
        return item.applies_to_every_form() && !item.about_the_router();
    }
    unit.forms.iter().any(|f| item.forms.contains(f))
}

/// What changed in one item between two revisions.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    pub key: String,
    pub number: String,
    /// The item's title (of the newer revision; of the older for a removed item).
    pub title_ja: String,
    pub title_en: String,
    /// (field, before, after); `before` is empty for an added item, `after` for a removed one.
    pub fields: Vec<(&'static str, String, String)>,
}

impl ItemChange {
    /// Its title in the reader's language.
    pub fn title(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.title_en
        } else {
            &self.title_ja
        }
    }
}

fn describe(item: &CatalogueItem) -> Vec<(&'static str, String)> {
    let join = |v: Vec<&str>| v.join(", ");
    vec![
        ("number", item.number.clone()),
        ("title_ja", item.title_ja.clone()),
        ("title_en", item.title_en.clone()),
        ("explanation_ja", item.explanation_ja.clone()),
        ("explanation_en", item.explanation_en.clone()),
        (
            "forms",
            join(item.forms.iter().map(|f| f.as_str()).collect()),
        ),
        (
            "scopes",
            join(item.scopes.iter().map(|s| s.as_str()).collect()),
        ),
        ("trigger", item.trigger.as_str().to_string()),
        (
            "renewal_days",
            item.renewal_days.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ]
}

/// Field-by-field differences between two revisions, in the newer revision's order
/// (removed items last). Unchanged items are left out.
pub fn diff(old: &[CatalogueItem], new: &[CatalogueItem]) -> Vec<ItemChange> {
    let mut out = vec![];
    for n in new {
        let after = describe(n);
        let before = old.iter().find(|o| o.key == n.key).map(describe);
        let fields: Vec<(&'static str, String, String)> = after
            .into_iter()
            .enumerate()
            .filter_map(|(i, (field, a))| {
                let b = before.as_ref().map(|b| b[i].1.clone()).unwrap_or_default();
                (a != b).then_some((field, b, a))
            })
            .collect();
        if !fields.is_empty() {
            out.push(ItemChange {
                key: n.key.clone(),
                number: n.number.clone(),
                title_ja: n.title_ja.clone(),
                title_en: n.title_en.clone(),
                fields,
            });
        }
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| n.key == o.key)) {
        let fields = describe(o)
            .into_iter()
            .map(|(f, b)| (f, b, String::new()))
            .collect();
        out.push(ItemChange {
            key: o.key.clone(),
            number: o.number.clone(),
            title_ja: o.title_ja.clone(),
            title_en: o.title_en.clone(),
            fields,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<CatalogueItem> {
        parse_file(FIRST_REVISION).unwrap().item
    }

    fn item(key: &str) -> CatalogueItem {
        items().into_iter().find(|i| i.key == key).unwrap()
    }

    fn unit(kind: ScopeKind, forms: &[ConnectionForm]) -> Unit {
        Unit {
            kind,
            id: None,
            name: String::new(),
            forms: forms.to_vec(),
            keeps_logs: forms.contains(&ConnectionForm::Gateway),
        }
    }

    #[test]
    fn the_shipped_catalogue_holds_the_six_items_and_two_declarations() {
        let keys: Vec<String> = items().into_iter().map(|i| i.key).collect();
        assert_eq!(
            keys,
            [
                "administrator",
                "id_management",
                "antivirus",
                "system_configuration",
                "inhouse_measures",
                "gateway_logs",
                "router_ports",
                "outside_connections"
            ]
        );
    }

    /// Table 7-4-1: ○ for every form on items 1–5, gateway only on item 6; §7.4.2 for all.
    #[test]
    fn each_item_applies_to_the_forms_of_table_7_4_1() {
        use ConnectionForm::*;
        let expected: &[(&str, [bool; 3])] = &[
            ("administrator", [true, true, true]),
            ("id_management", [true, true, true]),
            ("antivirus", [true, true, true]),
            ("system_configuration", [true, true, true]),
            ("inhouse_measures", [true, true, true]),
            ("gateway_logs", [false, false, true]),
            ("router_ports", [true, true, true]),
            ("outside_connections", [true, true, true]),
        ];
        for (key, by_form) in expected {
            let it = item(key);
            for (form, want) in [PeerToPeer, Router, Gateway].into_iter().zip(by_form) {
                for kind in &it.scopes {
                    assert_eq!(
                        applies(&it, &unit(*kind, &[form])),
                        *want,
                        "{key} × {form:?} at {kind:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_office_with_a_gateway_shows_item_6_and_one_with_only_routers_does_not() {
        let logs = item("gateway_logs");
        assert!(applies(
            &logs,
            &unit(
                ScopeKind::Office,
                &[ConnectionForm::Router, ConnectionForm::Gateway]
            )
        ));
        assert!(!applies(
            &logs,
            &unit(ScopeKind::Office, &[ConnectionForm::Router])
        ));
        assert!(
            !applies(
                &logs,
                &unit(ScopeKind::Organisation, &[ConnectionForm::Gateway])
            ),
            "item 6 is per office/site"
        );
    }

    #[test]
    fn an_office_without_connections_still_needs_its_administrator() {
        assert!(applies(
            &item("administrator"),
            &unit(ScopeKind::Office, &[])
        ));
        assert!(!applies(
            &item("gateway_logs"),
            &unit(ScopeKind::Office, &[])
        ));
        // No connection, no router: its ports are asked once a connection is recorded.
        assert!(!applies(
            &item("router_ports"),
            &unit(ScopeKind::Office, &[])
        ));
        assert!(!applies(
            &item("administrator"),
            &unit(ScopeKind::Organisation, &[ConnectionForm::Router])
        ));
    }

    #[test]
    fn diff_names_each_changed_field_and_nothing_else() {
        let old = items();
        let mut new = old.clone();
        new[0].title_en = "Responsible administrator (管理責任者)".into();
        new[5].forms = vec![ConnectionForm::Gateway, ConnectionForm::Router];
        new[6].renewal_days = Some(365);
        let d = diff(&old, &new);
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[0].fields,
            vec![(
                "title_en",
                "Responsible administrator".into(),
                "Responsible administrator (管理責任者)".into()
            )]
        );
        assert_eq!(
            d[1].fields,
            vec![("forms", "gateway".into(), "gateway, router".into())]
        );
        assert_eq!(
            d[2].fields,
            vec![("renewal_days", String::new(), "365".into())]
        );
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn malformed_catalogues_are_refused() {
        assert!(parse_file("note = \"x\"\n[[item]]\nkey = \"a\"").is_err());
        let dup = format!(
            "{FIRST_REVISION}\n[[item]]\n{}",
            FIRST_REVISION.split("[[item]]").nth(1).unwrap()
        );
        assert!(parse_file(&dup).unwrap_err().contains("repeated"));
    }
}
