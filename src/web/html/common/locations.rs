//! Offices and gateway sites as lists show them (an organisation's overview, a location's
//! page and the reviewer's page), with their connections and current administrator.

use uuid::Uuid;

use crate::app::structure::reads::{LocationRow, Structure};
use crate::domain::{ConnectionForm, ScopeKind};

/// A location as lists show it.
pub struct LocationItem {
    pub id: Uuid,
    pub is_site: bool,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub office_name: String,
    pub connections: Vec<ConnectionItem>,
    pub administrator: Option<String>,
    /// Department, phone and e-mail of the administrator.
    pub administrator_contact: String,
}

/// A connection as shown.
pub struct ConnectionItem {
    pub id: Uuid,
    pub form_key: &'static str,
    pub router_id: String,
    pub active: bool,
}

/// Locations of an organisation (`rows`, all or some of `s.locations`) as lists show them.
pub fn location_items(s: &Structure, rows: &[LocationRow]) -> Vec<LocationItem> {
    let conns = &s.connections;
    let today = crate::domain::dates::today();
    let appts = &s.appointments;
    let current = |loc: Uuid| {
        appts
            .iter()
            .find(|a| a.location_id == loc && a.effective_from <= today)
    };
    rows.iter()
        .map(|l| LocationItem {
            id: l.id,
            is_site: l.scope_kind() == ScopeKind::GatewaySite,
            name: l.name.clone(),
            address: l.address.clone(),
            active: l.active,
            office_name: l
                .office_id
                .and_then(|o| rows.iter().find(|r| r.id == o))
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            connections: conns
                .iter()
                .filter(|c| c.location_id == l.id)
                .map(|c| ConnectionItem {
                    id: c.id,
                    form_key: c
                        .form()
                        .map(ConnectionForm::label_key)
                        .unwrap_or("form.unknown"),
                    router_id: c.router_id.clone(),
                    active: c.active,
                })
                .collect(),
            administrator: current(l.id).map(|a| a.name.clone()),
            administrator_contact: current(l.id)
                .map(|a| {
                    [a.department.as_str(), a.phone.as_str(), a.email.as_str()]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .unwrap_or_default(),
        })
        .collect()
}
