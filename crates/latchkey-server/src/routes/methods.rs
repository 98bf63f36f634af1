//! Which methods each documented path answers, read from the API description itself: a request
//! for a documented path with a method it does not answer gets 405 with `Allow` (RFC 9110
//! §15.5.6), not 404, and the document and the server cannot disagree about it.

use super::admin::OPENAPI;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use latchkey_api_types::OAuthError;
use latchkey_api_types::admin::{ErrorBody, ErrorEnvelope};
use std::sync::LazyLock;

/// A path template's segments (`None` for a `{parameter}`) and its methods, as `Allow` lists them.
type Template = (Vec<Option<String>>, String);

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let document: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    let paths = document["paths"].as_object().expect("openapi.json has paths");
    paths
        .iter()
        .map(|(path, operations)| {
            let segments =
                path.split('/').map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned())).collect();
            let methods: Vec<String> = ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| operations.get(m).is_some())
                .map(str::to_ascii_uppercase)
                .collect();
            (segments, methods.join(", "))
        })
        .collect()
});

/// The methods a documented path answers (`GET, POST`), if `path` is one.
pub fn allowed(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    TEMPLATES.iter().find_map(|(template, methods)| {
        let matches = template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| t.as_deref().map_or(!s.is_empty(), |t| t == *s));
        matches.then_some(methods.as_str())
    })
}

/// 405 in the admin API's error shape, if the path is documented; else `None`.
pub fn admin_method_not_allowed(req: &HttpRequest) -> Option<HttpResponse> {
    let allow = allowed(req.path())?;
    let error = ErrorBody {
        code: "method_not_allowed".into(),
        message: format!("this path answers {allow} only"),
        field: None,
    };
    Some(HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow)).json(ErrorEnvelope { error }))
}

/// 405 in the OAuth2 error shape (the other endpoints' shape), if the path is documented.
pub fn method_not_allowed(req: &HttpRequest) -> Option<HttpResponse> {
    let allow = allowed(req.path())?;
    let error = OAuthError {
        error: "method_not_allowed".into(),
        error_description: Some(format!("this endpoint answers {allow} only")),
    };
    Some(HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow)).json(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths_and_their_methods() {
        assert_eq!(allowed("/admin/v1/realms"), Some("GET, POST"));
        assert_eq!(allowed("/admin/v1/realms/acme/users/alice"), Some("GET, PATCH, DELETE"));
        assert_eq!(allowed("/health/live"), Some("GET"));
        assert_eq!(allowed("/admin/v1/realms//users"), None, "a parameter is never empty");
        assert_eq!(allowed("/admin/v1/realms/acme/users/alice/extra"), None);
        assert_eq!(allowed("/nowhere"), None);
    }
}
