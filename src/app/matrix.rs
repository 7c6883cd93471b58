//! The Center's compliance matrix: for each organisation, the worst status of each catalogue
//! item over its offices and sites (Center staff only).

use std::collections::HashMap;

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::app::orgs::{CENTER, OrgRow};
use crate::app::structure::{open_items, units_of};
use crate::db;
use crate::domain::ConnectionForm;
use crate::domain::checklist::{self, Latest, Status};

/// One organisation's row: its status per catalogue item (`None`: not due anywhere).
#[derive(Debug)]
pub struct MatrixRow {
    pub org: OrgRow,
    pub summary: Vec<Option<Status>>,
    /// Per item: every place at the item's status has an earlier report accepted, which
    /// stays in force (a 差戻し or a report waiting that replaces an accepted one).
    pub in_force: Vec<bool>,
    /// It has no office registered (active): nothing per office can be due yet.
    pub no_office: bool,
}

/// The matrix: the catalogue revision its columns are, and its rows.
#[derive(Debug)]
pub struct Matrix {
    pub catalogue: std::sync::Arc<crate::app::catalogue::Catalogue>,
    pub rows: Vec<MatrixRow>,
}

/// The rows of the organisations with an active connection of `form` (any when `None`) and,
/// when `wanted` is given, with at least one item in that status; by user code.
pub async fn matrix(
    app: &App,
    actor: &Actor,
    form: Option<ConnectionForm>,
    wanted: Option<Status>,
) -> Result<Matrix, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    let catalogue = app.catalogue().await?;
    let scope = actor.scope().org_filter();
    let orgs = db::orgs::list(&app.db, actor.scope()).await?;
    let locations = db::structure::list(&app.db, scope).await?;
    let conns = db::structure::connections(&app.db, scope).await?;
    let subs = db::submissions::latest(&app.db, scope).await?;
    let open = open_items(app, scope).await?;
    // Each organisation's part of every list, found by key (not by a scan of each list per
    // organisation: thousands of organisations made that the matrix's whole cost).
    let mut locs_of = by_org(locations, |l| l.org_id);
    let mut conns_of = by_org(conns, |c| c.org_id);
    let mut subs_of = by_org(subs, |s| s.org_id);
    let mut open_of = by_org(open, |(o, _)| *o);
    let mut rows = vec![];
    for org in orgs {
        let org_locs = locs_of.remove(&org.id).unwrap_or_default();
        let org_conns = conns_of.remove(&org.id).unwrap_or_default();
        if let Some(f) = form
            && !org_conns.iter().any(|c| c.active && c.form() == Some(f))
        {
            continue;
        }
        let latest: Vec<Latest> = subs_of
            .remove(&org.id)
            .unwrap_or_default()
            .into_iter()
            .map(|s| Latest {
                id: s.id,
                kind: s.kind,
                location_id: s.location_id,
                state: s.state,
            })
            .collect();
        // Unit names are not part of a status.
        let units = units_of("", &org_locs, &org_conns);
        let org_open: Vec<_> = open_of
            .remove(&org.id)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, x)| x)
            .collect();
        let built = checklist::build(&catalogue.items, &units, &latest, &org_open);
        let summary = checklist::summarise(catalogue.items.len(), &built);
        let in_force = summary
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.is_some_and(|s| {
                    s != Status::Accepted
                        && built
                            .iter()
                            .filter(|r| r.item == i && r.status == s)
                            .all(|r| r.accepted_before)
                })
            })
            .collect();
        if let Some(w) = wanted
            && !summary.contains(&Some(w))
        {
            continue;
        }
        let no_office = !org_locs.iter().any(|l| l.active && l.kind == "office");
        rows.push(MatrixRow {
            org,
            summary,
            in_force,
            no_office,
        });
    }
    Ok(Matrix { catalogue, rows })
}

/// A list split by organisation, each part in the list's order.
fn by_org<T>(items: Vec<T>, org: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for item in items {
        out.entry(org(&item)).or_default().push(item);
    }
    out
}
