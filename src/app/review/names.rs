//! The names the review queue's lines show (organisation and user code, assignee, place and
//! its office), kept by the node between pages. A page reads `submissions` only, with the
//! names' version (`name_version`, moved by the database itself on every rename); the names
//! kept are used while that version stands, and the ones a page lacks are read in one
//! statement. A rename made through any node therefore shows on the very next page of every
//! node, and a busy queue costs one index walk per page instead of four lookups per line.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::db::{self, Db, queue::QueueRow};

/// The most names kept: past it the book starts again (thousands of organisations and their
/// places fit many times over).
const MOST: usize = 200_000;

/// The names one node keeps, with the version they were read at.
#[derive(Default)]
pub struct NameBook {
    inner: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    at: i64,
    orgs: HashMap<Uuid, (String, String)>,
    people: HashMap<Uuid, String>,
    places: HashMap<Uuid, (String, Option<String>)>,
}

impl Book {
    fn len(&self) -> usize {
        self.orgs.len() + self.people.len() + self.places.len()
    }

    /// Moves to version `at` when it is newer (what is kept is then dropped). An older
    /// version (a read that began before a rename committed) leaves the newer names in place.
    fn move_to(&mut self, at: i64) {
        if at > self.at || self.len() > MOST {
            *self = Book {
                at: at.max(self.at),
                ..Book::default()
            };
        }
    }

    fn add(&mut self, n: db::queue::QueueName) {
        match n.kind.as_str() {
            "o" => {
                self.orgs
                    .insert(n.id, (n.name, n.extra.unwrap_or_default()));
            }
            "u" => {
                self.people.insert(n.id, n.name);
            }
            _ => {
                self.places.insert(n.id, (n.name, n.extra));
            }
        }
    }
}

/// The names of one line.
#[derive(Debug, Clone, Default)]
pub struct LineNames {
    pub org_name: String,
    pub org_code: String,
    pub assignee: Option<String>,
    pub place: Option<String>,
    pub place_office: Option<String>,
}

impl NameBook {
    /// The names of `rows` (one page, read at one names' version), in their order: from the
    /// book, and those it lacks read from the database (and kept when their version is the
    /// book's).
    pub async fn lines(&self, db: &Db, rows: &[QueueRow]) -> Result<Vec<LineNames>, sqlx::Error> {
        let Some(at) = rows.first().map(|r| r.names_at) else {
            return Ok(Vec::new());
        };
        let missing = {
            let mut book = self.lock();
            book.move_to(at);
            let mut orgs: Vec<Uuid> = Vec::new();
            let mut people: Vec<Uuid> = Vec::new();
            let mut places: Vec<Uuid> = Vec::new();
            for r in rows {
                if !book.orgs.contains_key(&r.org_id) && !orgs.contains(&r.org_id) {
                    orgs.push(r.org_id);
                }
                if let Some(u) = r.assigned_to
                    && !book.people.contains_key(&u)
                    && !people.contains(&u)
                {
                    people.push(u);
                }
                if let Some(l) = r.location_id
                    && !book.places.contains_key(&l)
                    && !places.contains(&l)
                {
                    places.push(l);
                }
            }
            (orgs, people, places)
        };
        // Read fresh for this page (kept too when read at the book's version).
        let mut fresh = Book::default();
        if !(missing.0.is_empty() && missing.1.is_empty() && missing.2.is_empty()) {
            let read = db::queue::names(db, &missing.0, &missing.1, &missing.2).await?;
            let mut book = self.lock();
            if let Some(v) = read.first().map(|n| n.names_at) {
                book.move_to(v);
            }
            for n in read {
                if n.names_at == book.at {
                    book.add(n.clone());
                }
                fresh.add(n);
            }
        }
        let book = self.lock();
        Ok(rows
            .iter()
            .map(|r| {
                let (org_name, org_code) = fresh
                    .orgs
                    .get(&r.org_id)
                    .or_else(|| book.orgs.get(&r.org_id))
                    .cloned()
                    .unwrap_or_default();
                let assignee = r.assigned_to.and_then(|u| {
                    fresh
                        .people
                        .get(&u)
                        .or_else(|| book.people.get(&u))
                        .cloned()
                });
                let (place, place_office) = r
                    .location_id
                    .and_then(|l| {
                        fresh
                            .places
                            .get(&l)
                            .or_else(|| book.places.get(&l))
                            .cloned()
                    })
                    .map_or((None, None), |(name, office)| (Some(name), office));
                LineNames {
                    org_name,
                    org_code,
                    assignee,
                    place,
                    place_office,
                }
            })
            .collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
