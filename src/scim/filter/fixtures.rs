//! Fixture resources for filter tests: users closely following RFC 7643 §8.2's example and what Okta and
//! Microsoft Entra ID provision, and groups like the ones they push. Each has a short name that test
//! expectations use.

use serde_json::{Value, json};

pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(super) const BJENSEN_ID: &str = "2819c223-7f76-453a-919d-413861904646";
pub(super) const JSMITH_ID: &str = "26118915-6090-4610-87e4-49d8ca9f808d";

/// The users filters are evaluated against, each with a short `name` used in expectations.
pub(super) fn users() -> Vec<(&'static str, Value)> {
    vec![
        // Closely follows the full User of RFC 7643 §8.2.
        (
            "bjensen",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "id": BJENSEN_ID,
                "externalId": "701984",
                "userName": "bjensen",
                "name": {
                    "formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
                    "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"
                },
                "displayName": "Babs Jensen",
                "nickName": "Babs",
                "profileUrl": "https://login.example.com/bjensen",
                "emails": [
                    {"value": "bjensen@example.com", "type": "work", "primary": true},
                    {"value": "babs@jensen.org", "type": "home"}
                ],
                "addresses": [
                    {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                     "region": "CA", "postalCode": "91608", "country": "USA", "primary": true},
                    {"type": "home", "streetAddress": "456 Hollywood Blvd", "postalCode": "91608", "country": "USA"}
                ],
                "phoneNumbers": [
                    {"value": "555-555-5555", "type": "work"},
                    {"value": "555-555-4444", "type": "mobile"}
                ],
                "ims": [{"value": "someaimhandle", "type": "aim"}],
                "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
                "userType": "Employee",
                "title": "Tour Guide",
                "preferredLanguage": "en-US",
                "locale": "en-US",
                "timezone": "America/Los_Angeles",
                "active": true,
                "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides", "type": "direct"}],
                "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
                "meta": {
                    "resourceType": "User",
                    "created": "2010-01-23T04:56:22Z",
                    "lastModified": "2011-05-13T04:42:34Z",
                    "version": "W/\"3694e05e9dff591\"",
                    "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
                },
                ENTERPRISE: {
                    "employeeNumber": "701984",
                    "costCenter": "4130",
                    "organization": "Universal Studios",
                    "division": "Theme Park",
                    "department": "Tour Operations",
                    "manager": {"value": JSMITH_ID, "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
                }
            }),
        ),
        (
            "jsmith",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "id": JSMITH_ID,
                "externalId": "jsmith-ext",
                "userName": "JSmith",
                "name": {"familyName": "O'Malley", "givenName": "John"},
                "displayName": "John O'Malley",
                "emails": [{"value": "John.Smith@Example.ORG", "type": "work", "primary": true}],
                "ims": [{"value": "jsmith@foo.com", "type": "xmpp"}],
                "userType": "Intern",
                "active": false,
                "meta": {
                    "resourceType": "User",
                    "created": "2012-06-01T10:00:00+02:00",
                    "lastModified": "2011-05-13T06:42:34+02:00"
                },
                ENTERPRISE: {"employeeNumber": "1001"}
            }),
        ),
        // What Okta provisions (its documented test user), with empty strings where Okta sends them.
        (
            "okta",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "userType": "",
                "title": "",
                "active": true,
                "groups": [],
                "meta": {"resourceType": "User", "created": "2024-02-29T12:00:00.5Z", "lastModified": "2024-03-01T00:00:00Z"}
            }),
        ),
        // What Microsoft Entra ID's validator provisions.
        (
            "entra",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u-entra",
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
                "active": true,
                "displayName": "Test User Entra",
                "title": "Ångström Lead",
                "emails": [
                    {"value": "Test_User_x@contoso.com", "type": "work"},
                    {"value": "home@contoso.com", "type": "home"}
                ]
            }),
        ),
    ]
}

pub(super) fn groups() -> Vec<(&'static str, Value)> {
    vec![
        (
            "tour",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
                "externalId": "okta-g1",
                "displayName": "Tour Guides",
                "members": [
                    {"value": BJENSEN_ID, "display": "Babs Jensen", "type": "User",
                     "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
                    {"value": JSMITH_ID, "type": "User"}
                ],
                "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z", "version": "W/\"3\""}
            }),
        ),
        (
            "group1",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "id": "g-entra",
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Group1",
                "members": []
            }),
        ),
        (
            "admins",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "id": "g-admins",
                "displayName": "Admins",
                "members": [{"value": "g-entra", "type": "Group"}]
            }),
        ),
    ]
}
