//! How a page fails: a redirect to sign-in, or an HTML page with the
//! status and message the API would give.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::session::Nav;
use crate::error::ApiError;

pub enum UiError {
    /// No session, or it ended or expired: the sign-in page.
    SignIn,
    /// A page that says what went wrong, with the signed-in user's
    /// navigation where there is a session.
    Page {
        status: StatusCode,
        message: String,
        nav: Option<Nav>,
    },
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    nav: Option<&'a Nav>,
    status: u16,
    message: &'a str,
}

impl UiError {
    pub fn page(status: StatusCode, message: impl Into<String>, nav: Option<Nav>) -> UiError {
        UiError::Page {
            status,
            message: message.into(),
            nav,
        }
    }

    /// A bug: logged, never shown.
    pub fn internal(detail: String) -> UiError {
        tracing::error!(%detail, "internal error");
        UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error occurred",
            None,
        )
    }

    /// An error of the API's calls, as a page for `nav`'s user.
    pub fn from_api(err: impl Into<ApiError>, nav: &Nav) -> UiError {
        let err = err.into();
        if let ApiError::Internal(detail) = &err {
            tracing::error!(%detail, "internal error");
        }
        let (status, _, message) = err.parts();
        UiError::page(status, message, Some(nav.clone()))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn => Redirect::to("/-/ui/login").into_response(),
            UiError::Page {
                status,
                message,
                nav,
            } => {
                let title = status.canonical_reason().unwrap_or("Error");
                let page = ErrorPage {
                    title,
                    nav: nav.as_ref(),
                    status: status.as_u16(),
                    message: &message,
                };
                let html = page
                    .render()
                    .unwrap_or_else(|_| format!("{} {title}", status.as_u16()));
                (status, Html(html)).into_response()
            }
        }
    }
}

/// Turns the API's errors into pages for the signed-in user.
pub trait OrPage<T> {
    fn or_page(self, nav: &Nav) -> Result<T, UiError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, nav: &Nav) -> Result<T, UiError> {
        self.map_err(|err| UiError::from_api(err, nav))
    }
}
