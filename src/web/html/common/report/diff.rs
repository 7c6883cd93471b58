//! Two versions of a report compared in the terms they are shown in: a labelled value changed,
//! appeared or went; a table row added, removed or changed, with its changed cells marked.

use super::{Cell, Fact, Mark, Report, Row, Section, Table};

/// What changed from `old` to `new`: only the changed sections, facts and rows.
pub fn diff(old: &Report, new: &Report) -> Report {
    let mut sections = vec![];
    for n in &new.sections {
        let o = old.sections.iter().find(|o| o.title == n.title);
        if let Some(s) = section(o, Some(n)) {
            sections.push(s);
        }
    }
    for o in &old.sections {
        if !new.sections.iter().any(|n| n.title == o.title)
            && let Some(s) = section(Some(o), None)
        {
            sections.push(s);
        }
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
    (!facts.is_empty() || !tables.is_empty()).then_some(Section {
        title,
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
    (!rows.is_empty()).then(|| Table {
        rows,
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
}
