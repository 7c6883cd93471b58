//! An organisation's compliance checklist: every catalogue item that applies to its
//! organisation, offices and gateway sites, with the status of the latest report.

use uuid::Uuid;

use super::catalogue::{CatalogueItem, ScopeKind, Trigger, Unit, applies};

/// Where a checklist row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Missing,
    Draft,
    Submitted,
    UnderReview,
    Accepted,
    Returned,
    /// An on-request item the Center has not asked for.
    NotRequested,
    /// An on-change item with nothing to declare yet.
    WhenApplicable,
    /// The Center asked for the report and it has not been sent yet.
    Requested,
    /// An improvement instruction on the item is not closed.
    InstructionOpen,
    /// The organisation has reported its correction; the Center has yet to close the
    /// instruction (報告済み・センター確認待ち).
    InstructionAnswered,
    /// A request or an instruction is past its due date.
    Overdue,
}

impl Status {
    /// From a stored submission state.
    pub fn from_state(s: &str) -> Status {
        match s {
            "draft" => Status::Draft,
            "submitted" => Status::Submitted,
            "under_review" => Status::UnderReview,
            "accepted" => Status::Accepted,
            "returned" => Status::Returned,
            _ => Status::Missing,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::UnderReview => "under_review",
            Status::Accepted => "accepted",
            Status::Returned => "returned",
            Status::NotRequested => "not_requested",
            Status::WhenApplicable => "when_applicable",
            Status::Requested => "requested",
            Status::InstructionOpen => "instruction_open",
            Status::InstructionAnswered => "instruction_answered",
            Status::Overdue => "overdue",
        }
    }

    /// The locale key of the status.
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Missing => "checklist.status.missing",
            Status::Draft => "checklist.status.draft",
            Status::Submitted => "checklist.status.submitted",
            Status::UnderReview => "checklist.status.under_review",
            Status::Accepted => "checklist.status.accepted",
            Status::Returned => "checklist.status.returned",
            Status::NotRequested => "checklist.status.not_requested",
            Status::WhenApplicable => "checklist.status.when_applicable",
            Status::Requested => "checklist.status.requested",
            Status::InstructionOpen => "checklist.status.instruction_open",
            Status::InstructionAnswered => "checklist.status.instruction_answered",
            Status::Overdue => "checklist.status.overdue",
        }
    }

    /// How urgent, for summarising several rows into one cell (higher is worse).
    pub fn severity(self) -> u8 {
        match self {
            Status::Overdue => 10,
            Status::InstructionOpen => 9,
            Status::Requested => 8,
            Status::Missing => 7,
            Status::Returned => 6,
            Status::Draft => 5,
            Status::Submitted => 4,
            Status::UnderReview => 3,
            Status::InstructionAnswered => 3,
            Status::Accepted => 2,
            Status::WhenApplicable => 1,
            Status::NotRequested => 0,
        }
    }

    /// Every status, for filters.
    pub const ALL: [Status; 12] = [
        Status::Overdue,
        Status::InstructionOpen,
        Status::InstructionAnswered,
        Status::Requested,
        Status::Missing,
        Status::Returned,
        Status::Draft,
        Status::Submitted,
        Status::UnderReview,
        Status::Accepted,
        Status::WhenApplicable,
        Status::NotRequested,
    ];

    /// Parses a stored or query name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the organisation has something to do.
    pub fn needs_action(self) -> bool {
        matches!(
            self,
            Status::Missing
                | Status::Draft
                | Status::Returned
                | Status::Requested
                | Status::InstructionOpen
                | Status::Overdue
        )
    }
}

/// The latest report of an item for a place.
#[derive(Debug, Clone)]
pub struct Latest {
    pub id: Uuid,
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub state: String,
}

/// An unclosed instruction or an open request on an item (for every unit when `location_id`
/// is `None`).
#[derive(Debug, Clone)]
pub struct Open {
    pub kind: String,
    pub location_id: Option<Uuid>,
    pub id: Uuid,
    pub instruction: bool,
    pub overdue: bool,
    /// An instruction the organisation has answered (waiting for the Center).
    pub answered: bool,
    /// When it is due (an instruction's granted extension included).
    pub due: Option<chrono::NaiveDate>,
}

/// One row: an item due for one unit.
#[derive(Debug, Clone)]
pub struct Row {
    pub item: usize,
    pub unit: usize,
    pub status: Status,
    /// The instruction or request that set the status, if one did.
    pub open: Option<(Uuid, bool)>,
    /// When that instruction or request is due.
    pub due: Option<chrono::NaiveDate>,
    /// The report that gave the status (the newest one sent, else the draft).
    pub submission: Option<Uuid>,
    /// A draft is open for the item and place (a revision being written, say).
    pub draft_open: bool,
    /// The status is not 受理 but an earlier report of the item and place was accepted: that
    /// one stays in force while the newer one waits or is returned.
    pub accepted_before: bool,
}

/// Builds the rows, in catalogue order then unit order. `latest` is newest first. The newest
/// report sent to the Center gives the status (a newer draft does not hide it); an open
/// instruction or request outranks it; past its due date it is overdue.
pub fn build(
    items: &[CatalogueItem],
    units: &[Unit],
    latest: &[Latest],
    open: &[Open],
) -> Vec<Row> {
    let mut rows = vec![];
    for (i, item) in items.iter().enumerate() {
        for (u, unit) in units.iter().enumerate() {
            if !applies(item, unit) {
                continue;
            }
            let location = if unit.kind == ScopeKind::Organisation {
                None
            } else {
                unit.id
            };
            // The newest report sent to the Center stands while a revision is drafted; a
            // draft alone shows as a draft.
            let mine = || {
                latest
                    .iter()
                    .filter(|l| l.kind == item.key && l.location_id == location)
            };
            let found = mine()
                .find(|l| l.state != "draft")
                .or_else(|| mine().next());
            let mut status = match (found, item.trigger) {
                (Some(l), _) => Status::from_state(&l.state),
                (None, Trigger::OnRequest) => Status::NotRequested,
                (None, Trigger::OnChange) => Status::WhenApplicable,
                (None, Trigger::Always) => Status::Missing,
            };
            let submission = found.map(|l| l.id);
            let draft_open = mine().any(|l| l.state == "draft");
            let accepted_before = found.is_some_and(|f| f.state != "accepted")
                && mine().any(|l| l.state == "accepted");
            let mut why = None;
            let mut due = None;
            // An instruction or request about a place where the item is not due (logs asked
            // of a gateway site whose connection is recorded at its office, say) stands for
            // every place of the item: the organisation still sees it on its checklist.
            let placed = |l: Uuid| {
                units.iter().any(|u| {
                    u.id == Some(l) && u.kind != ScopeKind::Organisation && applies(item, u)
                })
            };
            for o in open.iter().filter(|o| {
                o.kind == item.key
                    && o.location_id
                        .is_none_or(|l| Some(l) == location || !placed(l))
            }) {
                let s = match (o.overdue, o.instruction, o.answered) {
                    (true, _, _) => Status::Overdue,
                    (false, true, true) => Status::InstructionAnswered,
                    (false, true, false) => Status::InstructionOpen,
                    (false, false, _) => Status::Requested,
                };
                if why.is_none() || s.severity() > status.severity() {
                    status = s;
                    why = Some((o.id, o.instruction));
                    due = o.due;
                }
            }
            rows.push(Row {
                item: i,
                unit: u,
                status,
                open: why,
                due,
                submission,
                draft_open,
                accepted_before,
            });
        }
    }
    rows
}

/// The worst status per catalogue item over all units (`None` where the item does not apply).
pub fn summarise(item_count: usize, rows: &[Row]) -> Vec<Option<Status>> {
    let mut out: Vec<Option<Status>> = vec![None; item_count];
    for r in rows {
        let cell = &mut out[r.item];
        if cell.is_none_or(|c| r.status.severity() > c.severity()) {
            *cell = Some(r.status);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::{ConnectionForm, FIRST_REVISION, parse_file};

    #[test]
    fn offices_without_administrators_are_missing_and_gateway_sites_owe_logs() {
        let items = parse_file(FIRST_REVISION).unwrap().item;
        let office = Uuid::now_v7();
        let site = Uuid::now_v7();
        let units = vec![
            Unit {
                kind: ScopeKind::Organisation,
                id: None,
                name: "org".into(),
                forms: vec![ConnectionForm::Router, ConnectionForm::Gateway],
                keeps_logs: true,
            },
            Unit {
                kind: ScopeKind::Office,
                id: Some(office),
                name: "本社".into(),
                forms: vec![ConnectionForm::Router],
                keeps_logs: false,
            },
            Unit {
                kind: ScopeKind::GatewaySite,
                id: Some(site),
                name: "GW".into(),
                forms: vec![ConnectionForm::Gateway],
                keeps_logs: true,
            },
        ];
        let latest = vec![Latest {
            id: Uuid::now_v7(),
            kind: "administrator".into(),
            location_id: Some(office),
            state: "submitted".into(),
        }];
        let rows = build(&items, &units, &latest, &[]);
        let find = |key: &str, unit: usize| {
            rows.iter()
                .find(|r| items[r.item].key == key && r.unit == unit)
                .map(|r| r.status)
        };
        assert_eq!(find("administrator", 1), Some(Status::Submitted));
        assert_eq!(find("administrator", 2), Some(Status::Missing));
        assert_eq!(
            find("gateway_logs", 1),
            None,
            "router-only office: no item 6"
        );
        assert_eq!(find("gateway_logs", 2), Some(Status::Missing));
        assert_eq!(find("inhouse_measures", 0), Some(Status::NotRequested));
        assert_eq!(find("outside_connections", 0), Some(Status::WhenApplicable));
        assert_eq!(find("id_management", 0), Some(Status::Missing));
        let cells = summarise(items.len(), &rows);
        assert_eq!(
            cells[0],
            Some(Status::Missing),
            "one office missing makes the item missing"
        );
        assert_eq!(cells[4], Some(Status::NotRequested));
    }

    #[test]
    fn a_draft_of_a_new_version_does_not_hide_the_accepted_report() {
        let items = parse_file(FIRST_REVISION).unwrap().item;
        let units = vec![Unit {
            kind: ScopeKind::Organisation,
            id: None,
            name: "org".into(),
            forms: vec![ConnectionForm::Router],
            keeps_logs: false,
        }];
        let report = |kind: &str, state: &str| Latest {
            id: Uuid::now_v7(),
            kind: kind.into(),
            location_id: None,
            state: state.into(),
        };
        let latest = vec![
            report("system_configuration", "draft"),
            report("system_configuration", "accepted"),
            report("antivirus", "draft"),
            report("id_management", "returned"),
            report("id_management", "accepted"),
        ];
        let rows = build(&items, &units, &latest, &[]);
        let row = |key: &str| rows.iter().find(|r| items[r.item].key == key);
        let find = |key: &str| row(key).map(|r| r.status);
        assert_eq!(find("system_configuration"), Some(Status::Accepted));
        assert_eq!(find("antivirus"), Some(Status::Draft), "nothing sent yet");
        // A newer report returned: returned, and the accepted one is said to stay in force.
        assert_eq!(find("id_management"), Some(Status::Returned));
        assert!(row("id_management").is_some_and(|r| r.accepted_before));
        assert!(row("system_configuration").is_some_and(|r| !r.accepted_before));
        assert!(row("antivirus").is_some_and(|r| !r.accepted_before));
    }

    #[test]
    fn an_answered_instruction_waits_for_the_center_and_a_returned_report_names_itself() {
        let items = parse_file(FIRST_REVISION).unwrap().item;
        let units = vec![Unit {
            kind: ScopeKind::Organisation,
            id: None,
            name: "org".into(),
            forms: vec![ConnectionForm::Router],
            keeps_logs: false,
        }];
        let returned = Uuid::now_v7();
        let latest = vec![
            Latest {
                id: Uuid::now_v7(),
                kind: "antivirus".into(),
                location_id: None,
                state: "draft".into(),
            },
            Latest {
                id: returned,
                kind: "antivirus".into(),
                location_id: None,
                state: "returned".into(),
            },
        ];
        let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 24);
        let open = |answered: bool| Open {
            kind: "system_configuration".into(),
            location_id: None,
            id: Uuid::nil(),
            instruction: true,
            overdue: false,
            answered,
            due,
        };
        let row = |open: &[Open], key: &str| {
            build(&items, &units, &latest, open)
                .into_iter()
                .find(|r| items[r.item].key == key)
                .unwrap()
        };
        let av = row(&[], "antivirus");
        assert_eq!(av.status, Status::Returned);
        assert_eq!(av.submission, Some(returned));
        assert!(av.draft_open, "the revision is being written");
        let waiting = row(&[open(false)], "system_configuration");
        assert_eq!(waiting.status, Status::InstructionOpen);
        assert!(waiting.status.needs_action());
        assert_eq!(waiting.due, due);
        let answered = row(&[open(true)], "system_configuration");
        assert_eq!(answered.status, Status::InstructionAnswered);
        assert!(!answered.status.needs_action(), "the Center acts next");
    }

    #[test]
    fn a_request_for_a_place_where_the_item_is_not_due_shows_on_the_items_rows() {
        let items = parse_file(FIRST_REVISION).unwrap().item;
        let (office, site) = (Uuid::now_v7(), Uuid::now_v7());
        // The gateway connection is recorded at the office; its site has none of its own, and
        // keeps the logs (as `units_of` decides): the office owes none.
        let units = vec![
            Unit {
                kind: ScopeKind::Organisation,
                id: None,
                name: "org".into(),
                forms: vec![ConnectionForm::Gateway],
                keeps_logs: false,
            },
            Unit {
                kind: ScopeKind::Office,
                id: Some(office),
                name: "成田営業所".into(),
                forms: vec![ConnectionForm::Gateway],
                keeps_logs: false,
            },
            Unit {
                kind: ScopeKind::GatewaySite,
                id: Some(site),
                name: "GW室".into(),
                forms: vec![],
                keeps_logs: true,
            },
        ];
        let request = |at: Uuid| Open {
            kind: "gateway_logs".into(),
            location_id: Some(at),
            id: Uuid::nil(),
            instruction: false,
            overdue: false,
            answered: false,
            due: chrono::NaiveDate::from_ymd_opt(2026, 12, 18),
        };
        let logs = |open: &[Open]| {
            build(&items, &units, &[], open)
                .into_iter()
                .filter(|r| items[r.item].key == "gateway_logs")
                .map(|r| (r.unit, r.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(logs(&[]), vec![(2, Status::Missing)]);
        assert_eq!(logs(&[request(site)]), vec![(2, Status::Requested)]);
        // Asked of the office, whose logs its site keeps: on the site's row.
        assert_eq!(logs(&[request(office)]), vec![(2, Status::Requested)]);
        // One asked of a place where the item is due stays with that place.
        let other = Uuid::now_v7();
        let mut two = units.clone();
        two.push(Unit {
            kind: ScopeKind::Office,
            id: Some(other),
            name: "羽田".into(),
            forms: vec![ConnectionForm::Gateway],
            keeps_logs: true,
        });
        let rows: Vec<_> = build(&items, &two, &[], &[request(site)])
            .into_iter()
            .filter(|r| items[r.item].key == "gateway_logs")
            .map(|r| (r.unit, r.status))
            .collect();
        assert_eq!(rows, vec![(2, Status::Requested), (3, Status::Missing)]);
    }
}
