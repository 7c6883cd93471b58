//! Two versions of a report compared in the terms they are shown in: a labelled value changed,
//! appeared or went; a table row added, removed or changed, with its changed cells marked.

use super::{Cell, Fact, Mark, Report, Row, Section, Table};

/// What changed from `old` to `new`: only the changed sections, facts and rows. A section
/// that went is shown where it stood, before the first section that followed it and stayed
/// (a connection given up stays among the connections, not after the files).
pub fn diff(old: &Report, new: &Report) -> Report {
    let gone = |o: &Section| !new.sections.iter().any(|n| n.title == o.title);
    let mut sections = vec![];
    let mut next_old = 0;
    for n in &new.sections {
        let o = old.sections.iter().position(|o| o.title == n.title);
        if let Some(at) = o {
            for went in old.sections[next_old.min(at)..at]
                .iter()
                .filter(|o| gone(o))
            {
                sections.extend(section(Some(went), None));
            }
            next_old = next_old.max(at + 1);
        }
        if let Some(s) = section(o.map(|i| &old.sections[i]), Some(n)) {
            sections.push(s);
        }
    }
    for went in old.sections[next_old.min(old.sections.len())..]
        .iter()
        .filter(|o| gone(o))
    {
        sections.extend(section(Some(went), None));
    }
    Report {
        item: new.item.clone(),
        place: new.place.clone(),
        summary: vec![],
        sections,
    }
}

fn section(old: Option<&Section>, new: Option<&Section>) -> Option<Section> {
    let title = new.or(old)?.title.clone();
    let no_facts: Vec<Fact> = vec![];
    let no_tables: Vec<Table> = vec![];
    let (of, ot) = old.map_or((&no_facts, &no_tables), |s| (&s.facts, &s.tables));
    let (nf, nt) = new.map_or((&no_facts, &no_tables), |s| (&s.facts, &s.tables));
    let mut facts = vec![];
    for f in nf {
        match of.iter().find(|o| o.label == f.label) {
            Some(o) if o.value == f.value => {}
            Some(o) => facts.push(Fact {
                before: Some(o.value.clone()),
                mark: Mark::Changed,
                ..f.clone()
            }),
            None => facts.push(Fact {
                mark: Mark::Added,
                ..f.clone()
            }),
        }
    }
    for o in of.iter().filter(|o| !nf.iter().any(|f| f.label == o.label)) {
        facts.push(Fact {
            mark: Mark::Removed,
            ..o.clone()
        });
    }
    let mut tables = vec![];
    for t in nt {
        let old_rows = ot
            .iter()
            .find(|o| o.caption == t.caption)
            .map(|o| o.rows.as_slice())
            .unwrap_or(&[]);
        if let Some(d) = table(t, old_rows, &t.rows) {
            tables.push(d);
        }
    }
    for o in ot
        .iter()
        .filter(|o| !nt.iter().any(|t| t.caption == o.caption))
    {
        if let Some(d) = table(o, &o.rows, &[]) {
            tables.push(d);
        }
    }
    let mark = match (old, new) {
        (Some(_), None) => Mark::Removed,
        (None, Some(_)) => Mark::Added,
        _ => Mark::Same,
    };
    (!facts.is_empty() || !tables.is_empty()).then_some(Section {
        title,
        mark,
        facts,
        tables,
    })
}

/// The changed rows of a table; rows are matched by key, in order when keys repeat.
fn table(shape: &Table, old: &[Row], new: &[Row]) -> Option<Table> {
    let mut used = vec![false; old.len()];
    let mut rows = vec![];
    for n in new {
        let found = old
            .iter()
            .enumerate()
            .find(|(i, o)| !used[*i] && o.key == n.key);
        match found {
            Some((i, o)) => {
                used[i] = true;
                if o.cells == n.cells {
                    continue;
                }
                let cells = n
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(c, cell)| {
                        let before = o.cells.get(c).map(|x| x.text.clone()).unwrap_or_default();
                        Cell {
                            text: cell.text.clone(),
                            before: (before != cell.text).then_some(before),
                        }
                    })
                    .collect();
                rows.push(Row {
                    cells,
                    mark: Mark::Changed,
                    ..n.clone()
                });
            }
            None => rows.push(Row {
                mark: Mark::Added,
                ..n.clone()
            }),
        }
    }
    for (i, o) in old.iter().enumerate() {
        if !used[i] {
            rows.push(Row {
                mark: Mark::Removed,
                ..o.clone()
            });
        }
    }
    if rows.is_empty() {
        return None;
    }
    // Only changed rows: the columns that name the row (the first two) and those with a
    // change, so the change is in view in a narrow column (a row added or removed is shown
    // whole, and so are the others beside it).
    let mut headings = shape.headings.clone();
    if rows.iter().all(|r| r.mark == Mark::Changed) {
        let keep: Vec<bool> = (0..headings.len())
            .map(|c| {
                c < 2
                    || rows
                        .iter()
                        .any(|r| r.cells.get(c).is_some_and(|x| x.before.is_some()))
            })
            .collect();
        let kept = |i: usize| keep.get(i).copied().unwrap_or(true);
        headings = headings
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept(*i))
            .map(|(_, h)| h)
            .collect();
        for r in &mut rows {
            r.cells = std::mem::take(&mut r.cells)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| kept(*i))
                .map(|(_, c)| c)
                .collect();
        }
    }
    Some(Table {
        rows,
        headings,
        ..shape.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::super::{facts, row};
    use super::*;

    fn table_of(rows: Vec<Row>) -> Table {
        Table {
            caption: "PC".into(),
            headings: vec!["host".into(), "date".into()],
            rows,
            empty: String::new(),
        }
    }

    #[test]
    fn rows_are_added_removed_and_changed_with_the_changed_cells_marked() {
        let r = |k: &str, d: &str| row(k.into(), vec![k.into(), d.into()], vec![]);
        let mut a = facts("S".into(), vec![("note".into(), "a".into())]);
        a.tables
            .push(table_of(vec![r("PC-1", "11-01"), r("PC-2", "11-01")]));
        let mut b = facts("S".into(), vec![("note".into(), "b".into())]);
        b.tables
            .push(table_of(vec![r("PC-1", "11-20"), r("PC-3", "11-20")]));
        let old = Report {
            sections: vec![a],
            ..Report::default()
        };
        let new = Report {
            sections: vec![b],
            ..Report::default()
        };
        let d = diff(&old, &new);
        let s = &d.sections[0];
        assert_eq!(s.facts[0].before.as_deref(), Some("a"));
        let rows = &s.tables[0].rows;
        assert_eq!(
            rows.iter()
                .map(|r| (r.key.as_str(), r.mark))
                .collect::<Vec<_>>(),
            vec![
                ("PC-1", Mark::Changed),
                ("PC-3", Mark::Added),
                ("PC-2", Mark::Removed)
            ]
        );
        assert_eq!(rows[0].cells[0].before, None);
        assert_eq!(rows[0].cells[1].before.as_deref(), Some("11-01"));
        assert!(diff(&new, &new).is_empty());
    }

    #[test]
    fn rows_only_changed_keep_the_naming_columns_and_the_changed_ones() {
        let r = |k: &str, os: &str, d: &str| {
            row(
                k.into(),
                vec![k.into(), "本社".into(), os.into(), d.into()],
                vec![],
            )
        };
        let shape = |rows| Table {
            caption: "PCs".into(),
            headings: vec!["host".into(), "place".into(), "os".into(), "date".into()],
            rows,
            empty: String::new(),
        };
        let t = table(
            &shape(vec![]),
            &[r("PC-1", "11", "11-01"), r("PC-2", "11", "11-01")],
            &[r("PC-1", "11", "12-05"), r("PC-2", "11", "11-01")],
        )
        .unwrap();
        assert_eq!(t.headings, ["host", "place", "date"]);
        assert_eq!(t.rows.len(), 1);
        let texts: Vec<&str> = t.rows[0].cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["PC-1", "本社", "12-05"]);
        assert_eq!(t.rows[0].cells[2].before.as_deref(), Some("11-01"));
        // A row added beside it: every column.
        let t = table(
            &shape(vec![]),
            &[r("PC-1", "11", "11-01")],
            &[r("PC-1", "11", "12-05"), r("PC-3", "11", "12-05")],
        )
        .unwrap();
        assert_eq!(t.headings.len(), 4);
        assert_eq!(t.rows[0].cells.len(), 4);
    }

    #[test]
    fn a_section_that_went_is_shown_where_it_stood() {
        let sec = |t: &str, v: &str| facts(t.into(), vec![("value".into(), v.into())]);
        let report = |sections: Vec<Section>| Report {
            sections,
            ..Report::default()
        };
        let old = report(vec![sec("PROXY", "p"), sec("VPN", "v"), sec("Files", "f")]);
        let new = report(vec![sec("VPN", "v2"), sec("NAT", "n"), sec("Files", "f2")]);
        let titles = |r: &Report| {
            r.sections
                .iter()
                .map(|s| s.title.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&diff(&old, &new)), ["PROXY", "VPN", "NAT", "Files"]);
        // Reordered: each section that went appears once.
        let new = report(vec![sec("Files", "f2"), sec("PROXY", "p")]);
        assert_eq!(titles(&diff(&old, &new)), ["VPN", "Files"]);
        let new = report(vec![sec("NAT", "n")]);
        assert_eq!(titles(&diff(&old, &new)), ["NAT", "PROXY", "VPN", "Files"]);
    }
}
