//! One builder per kind of report: the snapshot's data in words, and the summary a reviewer
//! reads first.

use serde_json::Value;

use super::{Context, Note, Section, Table, facts, row};
use crate::domain::antivirus::{self, AvRow};
use crate::domain::equipment::{self, EquipmentRow};

/// The summary and sections of one kind's data.
pub fn build(cx: &Context<'_>, kind: &str, data: &Value) -> (Vec<Note>, Vec<Section>) {
    match kind {
        "administrator" => administrator(cx, data),
        "id_management" => id_management(cx, data),
        "antivirus" => antivirus(cx, data),
        "system_configuration" => system_configuration(cx, data),
        "inhouse_measures" => inhouse(cx, data),
        "gateway_logs" => super::logs::gateway_logs(cx, data),
        "router_ports" => router_ports(cx, data),
        "outside_connections" => outside(cx, data),
        _ => (vec![], vec![]),
    }
}

pub(super) fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

pub(super) fn note(text: String, warn: bool) -> Note {
    Note { text, warn }
}

/// A value or a dash.
pub(super) fn or_dash(v: &str) -> String {
    if v.trim().is_empty() {
        "—".into()
    } else {
        v.to_string()
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of an appointment a correction compares, with their labels.
const APPOINTMENT_FIELDS: [(&str, &str); 8] = [
    ("name", "appointment.name"),
    ("name_kana", "appointment.name_kana"),
    ("department", "appointment.department"),
    ("title", "appointment.position"),
    ("phone", "appointment.phone"),
    ("emergency_contact", "appointment.emergency"),
    ("email", "field.email"),
    ("effective_from", "appointment.effective_from"),
];

/// Item 1 — 管理責任者の設置.
fn administrator(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let before = &d["predecessor"];
    let mut summary = vec![note(
        cx.f(
            "report.summary.administrator",
            &[("name", s(d, "name")), ("date", s(d, "effective_from"))],
        ),
        false,
    )];
    let mut rows = vec![];
    if before.is_object() {
        let was = cx.f(
            "report.predecessor_of",
            &[
                ("name", s(before, "name")),
                ("department", &or_dash(s(before, "department"))),
                ("date", s(before, "effective_from")),
            ],
        );
        summary.push(note(
            cx.f("report.summary.replaces", &[("who", &was)]),
            false,
        ));
        rows.push((cx.t("appointment.predecessor"), was));
        if let Some(r) = before["receipt_no"].as_str() {
            rows.push((cx.t("appointment.predecessor_notice"), r.to_string()));
        }
    }
    let corrects = &d["corrects"];
    if corrects.is_object() {
        let changed: Vec<String> = APPOINTMENT_FIELDS
            .iter()
            .filter(|(k, _)| s(corrects, k) != s(d, k))
            .map(|(k, label)| {
                cx.f(
                    "report.changed_from_to",
                    &[
                        ("field", &cx.t(label)),
                        ("from", &or_dash(s(corrects, k))),
                        ("to", &or_dash(s(d, k))),
                    ],
                )
            })
            .collect();
        // The notice it corrects: its first day, and its receipt where one is known.
        let date = s(corrects, "effective_from");
        let from = match corrects["receipt_no"].as_str() {
            Some(r) => cx.f(
                "report.notice_from_receipt",
                &[("date", date), ("receipt", r)],
            ),
            None => cx.f("report.notice_from", &[("date", date)]),
        };
        summary.push(note(
            if changed.is_empty() {
                cx.f("report.summary.corrects_nothing", &[("from", &from)])
            } else {
                cx.f(
                    "report.summary.corrects",
                    &[
                        ("from", &from),
                        ("changes", &changed.join(&cx.t("ui.list_sep"))),
                    ],
                )
            },
            false,
        ));
        rows.push((cx.t("appointment.corrects"), from));
    }
    let section = facts(
        cx.t("appointment.title"),
        [
            (cx.t("appointment.name"), or_dash(s(d, "name"))),
            (cx.t("appointment.name_kana"), or_dash(s(d, "name_kana"))),
            (cx.t("appointment.department"), or_dash(s(d, "department"))),
            (cx.t("appointment.position"), or_dash(s(d, "title"))),
            (cx.t("appointment.phone"), or_dash(s(d, "phone"))),
            (
                cx.t("appointment.emergency"),
                or_dash(s(d, "emergency_contact")),
            ),
            (cx.t("field.email"), or_dash(s(d, "email"))),
            (
                cx.t("appointment.effective_from"),
                or_dash(s(d, "effective_from")),
            ),
        ]
        .into_iter()
        .chain(rows)
        .collect(),
    );
    (summary, vec![section])
}

/// Item 2 — ID・パスワードの管理, with away-from-office uses.
fn id_management(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let offices = d["offices"].as_array().cloned().unwrap_or_default();
    let away = d["away"].as_array().cloned().unwrap_or_default();
    let ids: usize = offices.iter().map(|o| strings(&o["ids"]).len()).sum();
    let summary = vec![note(
        cx.f(
            "report.summary.ids",
            &[
                ("ids", &ids.to_string()),
                ("offices", &offices.len().to_string()),
                ("away", &away.len().to_string()),
            ],
        ),
        false,
    )];
    let sep = cx.t("ui.list_sep");
    let mut section = facts(cx.t("idm.ids"), vec![]);
    section.tables.push(Table {
        caption: cx.t("idm.ids"),
        headings: vec![cx.t("structure.kind.office"), cx.t("idm.which_ids")],
        rows: offices
            .iter()
            .map(|o| {
                let name = s(o, "office_name").to_string();
                row(
                    name.clone(),
                    vec![name, or_dash(&strings(&o["ids"]).join(&sep))],
                    vec![],
                )
            })
            .collect(),
        empty: cx.t("report.none"),
    });
    section.tables.push(Table {
        caption: cx.t("idm.away"),
        headings: vec![
            cx.t("idm.place"),
            cx.t("idm.reason"),
            cx.t("report.period"),
            cx.t("idm.which_ids"),
            cx.t("idm.managed_by"),
        ],
        rows: away
            .iter()
            .map(|a| {
                let office = s(a, "managing_office_name");
                let managed = match a["administrator"].as_str() {
                    Some(who) if !who.is_empty() => {
                        format!("{office}{}{who}{}", cx.t.t("ui.lp"), cx.t.t("ui.rp"))
                    }
                    _ => office.to_string(),
                };
                row(
                    format!("{}|{}", s(a, "place"), s(a, "from")),
                    vec![
                        s(a, "place").to_string(),
                        cx.word("idm.reason", s(a, "reason")),
                        cx.f(
                            "report.from_to",
                            &[("from", s(a, "from")), ("to", s(a, "to"))],
                        ),
                        strings(&a["ids"]).join(&sep),
                        or_dash(&managed),
                    ],
                    vec![],
                )
            })
            .collect(),
        empty: cx.t("report.no_away"),
    });
    // The attestation is about every ID listed above it.
    let attestation = facts(
        cx.t("report.attestation"),
        vec![(
            cx.t("report.attestation"),
            if d["attested"] == true {
                cx.t("idm.attest")
            } else {
                cx.t("report.not_attested")
            },
        )],
    );
    (summary, vec![section, attestation])
}

/// The product as people know it: the name as written, with the catalogue's word for it.
fn product(cx: &Context<'_>, r: &AvRow) -> String {
    let word = cx.word("av.product", &r.product);
    crate::domain::antivirus::product_label(r, &word, cx.t.t("ui.lp"), cx.t.t("ui.rp"))
}

/// Locations where the equipment list and the antivirus report count the computers connected
/// to NACCS differently.
fn missing_antivirus(cx: &Context<'_>, eq: &[EquipmentRow], av: &[AvRow]) -> Vec<Note> {
    antivirus::mismatches(eq, av, &[])
        .into_iter()
        .map(|(loc, expected, reported)| {
            note(
                cx.f(
                    antivirus::mismatch_key(expected, reported),
                    &[
                        ("location", &loc),
                        ("expected", &expected.to_string()),
                        ("reported", &reported.to_string()),
                    ],
                ),
                true,
            )
        })
        .collect()
}

/// Item 3 — ウィルス対策: a table of computers.
fn antivirus(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let rows: Vec<AvRow> = serde_json::from_value(d["rows"].clone()).unwrap_or_default();
    let stale: Vec<bool> = rows
        .iter()
        .map(|r| antivirus::is_stale(r, cx.submitted_on, cx.stale_days))
        .collect();
    let n_stale = stale.iter().filter(|s| **s).count();
    let mut summary = vec![note(
        cx.f(
            if n_stale == 0 {
                "report.summary.computers_fresh"
            } else {
                "report.summary.computers"
            },
            &[
                ("n", &rows.len().to_string()),
                ("stale", &n_stale.to_string()),
                ("days", &cx.stale_days.to_string()),
            ],
        ),
        n_stale > 0,
    )];
    if let Some(eq) = &cx.equipment {
        summary.extend(missing_antivirus(cx, eq, &rows));
    }
    let table = Table {
        caption: cx.t("report.computers"),
        headings: antivirus::FIELDS
            .iter()
            .map(|f| cx.t(&format!("av.col.{f}")))
            .collect(),
        rows: rows
            .iter()
            .zip(&stale)
            .map(|(r, stale)| {
                row(
                    format!("{}|{}", r.host, r.office),
                    vec![
                        r.host.clone(),
                        r.office.clone(),
                        r.os.clone(),
                        product(cx, r),
                        r.version.clone(),
                        r.definitions_date.clone(),
                        cx.word("av.freq", &r.update_frequency),
                        or_dash(&r.last_full_scan),
                    ],
                    if *stale {
                        vec![cx.t("av.stale")]
                    } else {
                        vec![]
                    },
                )
            })
            .collect(),
        empty: cx.t("report.none"),
    };
    (
        summary,
        vec![Section {
            title: cx.t("report.computers"),
            mark: Default::default(),
            facts: vec![],
            tables: vec![table],
        }],
    )
}

/// Item 4 — 利用者側のシステム構成: the note and the equipment table (files follow).
fn system_configuration(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let rows: Vec<EquipmentRow> =
        serde_json::from_value(d["equipment"].clone()).unwrap_or_default();
    let computers: i64 = equipment::naccs_computers(&rows).values().sum();
    let mut summary = vec![note(
        cx.f(
            "report.summary.equipment",
            &[
                ("rows", &rows.len().to_string()),
                ("computers", &computers.to_string()),
            ],
        ),
        false,
    )];
    if let Some(av) = &cx.antivirus {
        summary.extend(missing_antivirus(cx, &rows, av));
    }
    let mut section = facts(
        cx.t("eq.title"),
        vec![(cx.t("sysconf.note"), or_dash(s(d, "note")))],
    );
    section.tables.push(Table {
        caption: cx.t("eq.title"),
        headings: equipment::FIELDS
            .iter()
            .map(|f| cx.t(&format!("eq.col.{f}")))
            .collect(),
        rows: rows
            .iter()
            .map(|r| {
                row(
                    format!("{}|{}|{}|{}", r.device_type, r.maker, r.model, r.location),
                    vec![
                        cx.word("eq.type", &r.device_type),
                        or_dash(&r.name),
                        r.maker.clone(),
                        r.model.clone(),
                        or_dash(&r.os_firmware),
                        r.quantity.clone(),
                        r.location.clone(),
                        or_dash(&r.role),
                        cx.word("eq", &r.naccs),
                        or_dash(&r.notes),
                    ],
                    vec![],
                )
            })
            .collect(),
        empty: cx.t("report.none"),
    });
    (summary, vec![section])
}

/// Item 5 — 社内セキュリティ対策: each measure of each area.
fn inhouse(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    use crate::app::inhouse::{AREAS, MEASURES, STATUSES};
    let mut counts = [0usize; 4];
    // The measures in place only partly, and those planned: named, to be checked.
    let mut named: [Vec<String>; 4] = Default::default();
    let mut rows = vec![];
    for area in AREAS {
        for measure in MEASURES {
            let status = s(d, &format!("m_{area}_{measure}_status"));
            if let Some(i) = STATUSES.iter().position(|x| *x == status) {
                counts[i] += 1;
                named[i].push(cx.f(
                    "report.area_measure",
                    &[
                        ("area", &cx.word("inhouse.area", area)),
                        ("measure", &cx.word("inhouse.measure", measure)),
                    ],
                ));
            }
            rows.push(row(
                format!("{area}|{measure}"),
                vec![
                    cx.word("inhouse.area", area),
                    cx.word("inhouse.measure", measure),
                    or_dash(&cx.word("inhouse.status", status)),
                    or_dash(s(d, &format!("m_{area}_{measure}_desc"))),
                ],
                vec![],
            ));
        }
    }
    let mut summary = vec![note(
        cx.f(
            "report.summary.inhouse",
            &[
                ("implemented", &counts[0].to_string()),
                ("partial", &counts[1].to_string()),
                ("planned", &counts[2].to_string()),
                ("na", &counts[3].to_string()),
            ],
        ),
        false,
    )];
    for i in [1, 2] {
        if !named[i].is_empty() {
            summary.push(note(
                cx.f(
                    "report.summary.inhouse_which",
                    &[
                        ("status", &cx.word("inhouse.status", STATUSES[i])),
                        ("measures", &named[i].join(&cx.t("ui.list_sep"))),
                    ],
                ),
                true,
            ));
        }
    }
    let table = Table {
        caption: cx.t("report.measures"),
        headings: vec![
            cx.t("report.area"),
            cx.t("report.measure"),
            cx.t("checklist.status"),
            cx.t("inhouse.description"),
        ],
        rows,
        empty: cx.t("report.none"),
    };
    (
        summary,
        vec![Section {
            title: cx.t("report.measures"),
            mark: Default::default(),
            facts: vec![],
            tables: vec![table],
        }],
    )
}

/// §7.4.2(1) — the router attestation: which place, each statement.
fn router_ports(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let statements = ["lan_dedicated", "wan_unused", "console_unused"];
    let all = statements.iter().all(|k| d[*k] == true);
    let summary = vec![note(
        if all {
            cx.t("report.summary.router_ok")
        } else {
            cx.t("report.summary.router_not_ok")
        },
        !all,
    )];
    let routers = strings(&d["routers"]);
    let mut lines = vec![(
        cx.t("report.router_ids"),
        if routers.is_empty() {
            "—".into()
        } else {
            routers.join(&cx.t("ui.list_sep"))
        },
    )];
    for k in statements {
        lines.push((
            cx.t(&format!("router.{k}")),
            if d[k] == true {
                cx.t("report.confirmed")
            } else {
                cx.t("report.not_confirmed")
            },
        ));
    }
    (summary, vec![facts(cx.t("report.statements"), lines)])
}

/// §7.4.2(2) — the outside connections: a line of the summary and a section each.
fn outside(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let application = crate::app::outside::Application::of(d);
    let mut summary = vec![];
    let mut sections = vec![];
    for (n, c) in application.connections.iter().enumerate() {
        let (s, section) = connection(cx, n + 1, c);
        summary.push(s);
        sections.push(section);
    }
    (summary, sections)
}

/// Connection `number` of an application: its summary line and its section (named after it,
/// so that a comparison with the previous version pairs the same connection).
fn connection(
    cx: &Context<'_>,
    number: usize,
    c: &crate::app::outside::Connection,
) -> (Note, Section) {
    let method_words = match (c.method.as_str(), c.method_other.trim()) {
        ("other", written) if !written.is_empty() => written.to_string(),
        (m, _) => cx.word("outside.method", m),
    };
    let what = if c.method == "modem_ta" {
        cx.t("report.summary.modem_ta")
    } else {
        cx.f(
            "report.summary.outside",
            &[
                ("type", &cx.word("report.connection", &c.connection_type)),
                ("method", &method_words),
            ],
        )
    };
    let what = if c.computers == "other" && c.method != "modem_ta" {
        cx.f("report.summary.other_computers", &[("what", &what)])
    } else {
        what
    };
    let name = c.name.trim();
    let text = if name.is_empty() {
        what
    } else {
        cx.f("report.summary.named", &[("name", name), ("what", &what)])
    };
    let warn = c.method == "modem_ta" || c.computers == "other";
    let title = if name.is_empty() {
        cx.f("report.connection_n", &[("n", &number.to_string())])
    } else {
        name.to_string()
    };
    let section = facts(
        title,
        vec![
            (
                cx.t("outside.connection_type"),
                or_dash(&cx.word("outside.type", &c.connection_type)),
            ),
            (cx.t("outside.method"), or_dash(&method_words)),
            (
                cx.t("outside.computers"),
                or_dash(&cx.word("outside.computers", &c.computers)),
            ),
            (cx.t("outside.description"), or_dash(&c.description)),
            (
                cx.t("outside.outside_measures"),
                or_dash(&c.outside_measures),
            ),
        ],
    );
    (note(text, warn), section)
}

/// The sealed files of a report of `kind`: kind, name, size, SHA-256.
pub fn files(cx: &Context<'_>, kind: &str, files: &Value) -> Option<Section> {
    let files = files.as_array()?;
    if files.is_empty() {
        return None;
    }
    let role = |r: &str| match r {
        // An outside connection's diagram is of the connection, not of the system.
        "diagram" if kind == "outside_connections" => cx.t("outside.diagram"),
        "diagram" | "equipment_list" => cx.word("sysconf.role", r),
        "evidence" => cx.t("inhouse.evidence"),
        "logs" => cx.t("gwlog.files"),
        other => other.to_string(),
    };
    Some(Section {
        title: cx.t("sysconf.files"),
        mark: Default::default(),
        facts: vec![],
        tables: vec![Table {
            caption: cx.t("sysconf.files"),
            headings: vec![
                cx.t("sysconf.role"),
                cx.t("sysconf.file_name"),
                cx.t("sysconf.size"),
                "SHA-256".into(),
            ],
            rows: files
                .iter()
                .map(|f| {
                    row(
                        format!("{}|{}", s(f, "name"), s(f, "sha256")),
                        vec![
                            role(s(f, "role")),
                            s(f, "name").to_string(),
                            crate::web::html::common::files::human_size(
                                f["size"].as_i64().unwrap_or(0),
                            ),
                            s(f, "sha256").to_string(),
                        ],
                        vec![],
                    )
                })
                .collect(),
            empty: String::new(),
        }],
    })
}
