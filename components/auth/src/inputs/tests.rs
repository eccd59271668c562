//! Table-driven tests of the request-body checks.

use super::*;

fn fields_of(error: ApiError) -> Vec<String> {
    match error {
        ApiError::Unprocessable(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => vec![format!("not a 422: {other}")],
    }
}

fn new_user(email: &str, password: &str, role: &str, name: Option<&str>) -> CreateUserBody {
    CreateUserBody {
        email: email.into(),
        password: password.into(),
        role: role.into(),
        display_name: name.map(str::to_owned),
    }
}

const GOOD_PASSWORD: &str = "a long passphrase of yours";

#[test]
fn a_valid_user_is_normalised_and_named_after_its_email_by_default() {
    let user = new_user(" Ada@Example.COM ", GOOD_PASSWORD, "editor", None).check();

    let user = user.expect("valid");
    assert_eq!(user.email.as_str(), "ada@example.com");
    assert_eq!(user.display_name, "ada");
    assert_eq!(user.role, Role::Editor);
}

#[test]
fn every_invalid_user_field_is_reported_at_once() {
    let long_name = "n".repeat(201);
    let cases = [
        (
            new_user("nope", GOOD_PASSWORD, "viewer", None),
            vec!["email"],
            "bad email",
        ),
        (
            new_user("a@b.co", "short", "viewer", None),
            vec!["password"],
            "short password",
        ),
        (
            new_user("a@b.co", "Password1234", "viewer", None),
            vec!["password"],
            "common password",
        ),
        (
            new_user("a@b.co", GOOD_PASSWORD, "member", None),
            vec!["role"],
            "old role",
        ),
        (
            new_user("a@b.co", GOOD_PASSWORD, "viewer", Some("  ")),
            vec!["display_name"],
            "blank name",
        ),
        (
            new_user("a@b.co", GOOD_PASSWORD, "viewer", Some(&long_name)),
            vec!["display_name"],
            "long name",
        ),
        (
            new_user("", "x", "root", Some("a\u{7}b")),
            vec!["email", "password", "role", "display_name"],
            "all four",
        ),
    ];
    for (body, fields, reason) in cases {
        let error = body.check().err();

        assert_eq!(error.map(fields_of), Some(fields_into(&fields)), "{reason}");
    }
}

fn fields_into(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

#[test]
fn user_changes_accept_known_roles_only() {
    let cases = [
        (
            Some("admin"),
            Some(true),
            Ok(UserChanges {
                role: Some(Role::Admin),
                disabled: Some(true),
            }),
        ),
        (
            None,
            None,
            Ok(UserChanges {
                role: None,
                disabled: None,
            }),
        ),
        (Some("owner"), Some(false), Err(vec!["role".to_owned()])),
    ];
    for (role, disabled, expected) in cases {
        let body = UpdateUserBody {
            role: role.map(str::to_owned),
            disabled,
        };

        assert_eq!(body.check().map_err(fields_of), expected, "{role:?}");
    }
}

#[test]
fn api_keys_default_to_editor_and_are_never_admin() {
    let body = |name: &str, tier: &str, role: Option<&str>| CreateApiKeyBody {
        name: name.into(),
        tier: tier.into(),
        role: role.map(str::to_owned),
    };
    let valid = body(" ci ", "free", None).check().expect("valid");
    assert_eq!(valid.name, "ci");
    assert_eq!(valid.role.role(), Role::Editor);

    let long = "k".repeat(101);
    let cases = [
        (body("ci", "free", Some("admin")), vec!["role"], "admin key"),
        (body("ci", "gold", None), vec!["tier"], "unknown tier"),
        (body("", "free", None), vec!["name"], "blank name"),
        (body(&long, "free", None), vec!["name"], "long name"),
    ];
    for (candidate, fields, reason) in cases {
        let error = candidate.check().err();

        assert_eq!(error.map(fields_of), Some(fields_into(&fields)), "{reason}");
    }
}

#[test]
fn new_passwords_follow_the_policy() {
    let cases = [
        (GOOD_PASSWORD, 0, "a passphrase"),
        ("short", 1, "too short"),
        ("qwerty123456", 1, "too common"),
    ];
    for (password, errors, reason) in cases {
        assert_eq!(new_password_errors(password).len(), errors, "{reason}");
    }
}
