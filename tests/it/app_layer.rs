//! The application layer called directly, as the pages and the API call it: sign-in answers a
//! typed outcome for each step, and an organisation's page reads answer "not found" to
//! anyone outside it.

use secportal::app::auth::{Client, Credentials, Outcome, SignInError};
use secportal::app::submissions::{Place, ReportKind};
use secportal::app::{self, Actor, Error};
use secportal::domain::Role;
use uuid::Uuid;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, submission_in};

const ADMIN: &str = "admin@center.example.jp";

/// A user as the actor of a use case.
async fn actor(app: &TestApp, email: &str) -> Actor {
    let u = secportal::db::users::by_email(app.db(), email)
        .await
        .unwrap()
        .unwrap();
    Actor {
        id: u.id,
        email: u.email,
        role: Role::parse(&u.role).unwrap(),
        org_id: u.org_id,
        ip: "192.0.2.7".into(),
    }
}

fn client(existing: Option<Vec<u8>>) -> Client {
    Client {
        ip: "192.0.2.7".into(),
        user_agent: "test".into(),
        existing,
    }
}

fn credentials(password: &str) -> Credentials {
    Credentials {
        email: "Admin@Center.example.jp".into(),
        password: password.into(),
        next: "/review".into(),
    }
}

dual_test!(
    sign_in_answers_a_typed_outcome_for_each_step,
    |app| async move {
        app.add_user(ADMIN, "center_admin", None).await;
        let state = &app.state;

        let e = app::auth::sign_in(state, credentials("wrong-password-123"), client(None))
            .await
            .unwrap_err();
        assert!(matches!(e, SignInError::BadCredentials), "{e:?}");
        assert_eq!(app.audit_count("login.failure").await, 1);
        assert_eq!(app.count("sessions").await, 0);

        let Outcome::SignedIn(first) =
            app::auth::sign_in(state, credentials(PASSWORD), client(None))
                .await
                .unwrap()
        else {
            panic!("a user without an authenticator app is signed in at once");
        };
        assert_eq!(first.next, "/review");
        assert!(first.token.len() >= 32);
        let first_hash = secportal::security::token_hash(&first.token);
        let live = app::auth::live_session(state, &first_hash)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live.role, Role::CenterAdmin);
        assert_eq!(live.user.email, ADMIN);
        assert!(!live.must_enrol);

        // Signing in again from the same browser replaces its session.
        let Outcome::SignedIn(second) =
            app::auth::sign_in(state, credentials(PASSWORD), client(Some(first_hash)))
                .await
                .unwrap()
        else {
            panic!("signed in again");
        };
        assert_ne!(second.token, first.token);
        assert_eq!(app.count("sessions").await, 1);
        assert_eq!(app.audit_count("login.success").await, 2);

        let me = actor(&app, ADMIN).await;
        let second_hash = secportal::security::token_hash(&second.token);
        app::auth::sign_out(state, &me, &second_hash).await.unwrap();
        assert_eq!(app.count("sessions").await, 0);
        assert_eq!(app.audit_count("logout").await, 1);

        // A second step without a pending sign-in is gone, and counts nothing.
        let e = app::auth::second_step(state, "no-such-token", "123456", client(None))
            .await
            .unwrap_err();
        assert!(matches!(e, SignInError::PendingGone), "{e:?}");

        // Five failures from this address: the sixth attempt is refused, even with the right
        // password, and says how long to wait.
        for _ in 0..5 {
            let e = app::auth::sign_in(state, credentials("wrong-password-123"), client(None))
                .await
                .unwrap_err();
            assert!(matches!(e, SignInError::BadCredentials), "{e:?}");
        }
        assert!(
            app::auth::throttled(state, ADMIN, "192.0.2.7")
                .await
                .unwrap()
        );
        assert!(
            !app::auth::throttled(state, ADMIN, "192.0.2.8")
                .await
                .unwrap()
        );
        match app::auth::sign_in(state, credentials(PASSWORD), client(None)).await {
            Err(SignInError::Throttled { wait_minutes }) => {
                assert!((1..=15).contains(&wait_minutes), "{wait_minutes}")
            }
            other => panic!("expected throttled, got {other:?}"),
        }
        assert_eq!(app.audit_count("login.throttled").await, 1);
        assert_eq!(app.count("sessions").await, 0);
    }
);

dual_test!(
    an_organisations_page_reads_answer_not_found_outside_it,
    |app| async move {
        app.add_user("a@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.add_user("shinsa@center.example.jp", "reviewer", None)
            .await;
        let org_a = app.org_of("a@a.example.jp").await;
        let org_b = app.org_of("b@b.example.jp").await;
        app.login("a@a.example.jp", PASSWORD).await;
        let res = app.attest_router_at_new_office(&org_a.to_string()).await;
        let sealed: Uuid = submission_in(&res).parse().unwrap();

        let a = actor(&app, "a@a.example.jp").await;
        let b = actor(&app, "b@b.example.jp").await;
        let center = actor(&app, "shinsa@center.example.jp").await;
        let state = &app.state;

        // The organisation reads its own structure, receipt and report pages.
        let s = app::structure::reads::structure(state, &a, org_a)
            .await
            .unwrap();
        assert_eq!(s.locations.len(), 1);
        assert_eq!(s.locations[0].name, "本社");
        let office = s.locations[0].id;
        let versions =
            app::submissions::forms::versions_at(state, &a, org_a, "router_ports", Some(office))
                .await
                .unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].id, sealed);
        let receipt = app::submissions::forms::receipt(state, &a, org_a, sealed)
            .await
            .unwrap();
        assert!(!receipt.receipt_no.is_empty());
        assert_eq!(receipt.code.len(), 11, "{}", receipt.code);
        let form = app::submissions::forms::form_state(
            state,
            &a,
            &Place::org(org_a, ReportKind::Antivirus),
        )
        .await
        .unwrap();
        assert!(form.draft.is_none() && form.sealed.is_empty());

        // Center staff read it too.
        app::submissions::forms::receipt(state, &center, org_a, sealed)
            .await
            .unwrap();
        assert_eq!(
            app::structure::reads::locations(state, &center, org_a)
                .await
                .unwrap()
                .len(),
            1
        );

        // Another organisation gets "not found" from every read, its own id in the address
        // included.
        let not_found = |r: Result<(), Error>| assert!(matches!(r, Err(Error::NotFound)), "{r:?}");
        not_found(
            app::structure::reads::structure(state, &b, org_a)
                .await
                .map(|_| ()),
        );
        not_found(
            app::structure::reads::locations(state, &b, org_a)
                .await
                .map(|_| ()),
        );
        not_found(
            app::structure::reads::appointment_history(state, &b, org_a, office)
                .await
                .map(|_| ()),
        );
        not_found(
            app::submissions::forms::versions_at(state, &b, org_a, "router_ports", Some(office))
                .await
                .map(|_| ()),
        );
        not_found(
            app::submissions::forms::form_state(
                state,
                &b,
                &Place::org(org_a, ReportKind::Antivirus),
            )
            .await
            .map(|_| ()),
        );
        not_found(
            app::submissions::forms::receipt(state, &b, org_a, sealed)
                .await
                .map(|_| ()),
        );
        not_found(
            app::submissions::forms::receipt(state, &b, org_b, sealed)
                .await
                .map(|_| ()),
        );
        assert!(
            app::submissions::forms::stored(state, &b, org_b, sealed)
                .await
                .unwrap()
                .is_none()
        );
        not_found(
            app::id_management::declared(state, &b, org_a)
                .await
                .map(|_| ()),
        );
        // The matrix is the Center's.
        assert!(matches!(
            app::matrix::matrix(state, &a, None, None).await,
            Err(Error::Forbidden)
        ));
        let m = app::matrix::matrix(state, &center, None, None)
            .await
            .unwrap();
        assert_eq!(m.rows.len(), 2);
    }
);
