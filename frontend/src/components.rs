//! Building blocks shared by the pages: form state and fields that show the API's field
//! errors, the success status region, confirm dialogs, a shown-once secret, navigation, and the
//! loading, error and empty states of lists and pages.

use crate::api::ApiError;
use latchkey_api_types::Page;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};
use std::future::Future;
use wasm_bindgen::JsCast;

// ---------------------------------------------------------------------------------------------
// Navigation

/// Navigates to a full path under `/console` (no base resolution).
pub fn navigator() -> impl Fn(&str) + Clone + 'static {
    let navigate = use_navigate();
    move |to: &str| navigate(to, NavigateOptions { resolve: false, ..Default::default() })
}

/// Like [`navigator`], replacing the current history entry (search and paging).
pub fn replacer() -> impl Fn(&str) + Clone + 'static {
    let navigate = use_navigate();
    move |to: &str| navigate(to, NavigateOptions { resolve: false, replace: true, scroll: false, ..Default::default() })
}

/// Replaces the current history entry by `to` (redirects).
#[component]
pub fn Go(#[prop(into)] to: String) -> impl IntoView {
    let navigate = use_navigate();
    request_animation_frame(move || {
        navigate(&to, NavigateOptions { resolve: false, replace: true, ..Default::default() })
    });
    view! { <p class="muted">"Loading…"</p> }
}

/// A route parameter, reactively.
pub fn param(name: &'static str) -> Memo<String> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.read().get(name).unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// The one status region: success messages ("Saved.", "Realm created.", …)

/// A success message and the path it belongs to; it disappears when the user goes elsewhere.
#[derive(Clone, Copy)]
pub struct Flash(RwSignal<Option<(String, String)>>);

impl Flash {
    pub fn provide() {
        provide_context(Flash(RwSignal::new(None)));
    }

    pub fn get() -> Self {
        expect_context()
    }

    /// Shows `msg` on the current page.
    pub fn show(&self, msg: impl Into<String>) {
        let path = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
        self.show_at(path, msg);
    }

    /// Shows `msg` on the page at `path` (about to be navigated to).
    pub fn show_at(&self, path: impl Into<String>, msg: impl Into<String>) {
        let (path, msg) = (path.into(), msg.into());
        // Cleared first so a repeated message is announced again.
        self.0.set(None);
        let sig = self.0;
        request_animation_frame(move || sig.set(Some((msg, path))));
    }
}

/// The `role=status` region showing the current page's success message.
#[component]
pub fn StatusRegion() -> impl IntoView {
    let Flash(flash) = Flash::get();
    let location = use_location();
    let message = move || {
        flash.with(|f| match f {
            Some((msg, path)) if *path == location.pathname.get() => Some(msg.clone()),
            _ => None,
        })
    };
    view! {
        <div role="status" class="flash" class:visible=move || message().is_some()>
            {message}
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Forms

/// A form's saving flag and last error. Field errors show under their input; any other error
/// (no field, or a field this form has no input for) in the form's alert.
#[derive(Clone, Copy)]
pub struct FormState {
    pub saving: RwSignal<bool>,
    pub error: RwSignal<Option<ApiError>>,
    fields: &'static [&'static str],
}

impl FormState {
    pub fn new(fields: &'static [&'static str]) -> Self {
        Self { saving: RwSignal::new(false), error: RwSignal::new(None), fields }
    }

    pub fn field_error(&self, id: &str) -> Option<String> {
        self.error.with(|e| e.as_ref().filter(|e| e.field_name().as_deref() == Some(id)).map(ApiError::message))
    }

    pub fn form_error(&self) -> Option<String> {
        self.error.with(|e| {
            e.as_ref()
                .filter(|e| !e.field_name().is_some_and(|f| self.fields.contains(&f.as_str())))
                .map(ApiError::message)
        })
    }

    /// Runs `fut` unless already saving: disables submit meanwhile, keeps the error, hands a
    /// success to `ok`.
    pub fn submit<T: 'static>(
        &self,
        fut: impl Future<Output = Result<T, ApiError>> + 'static,
        ok: impl FnOnce(T) + 'static,
    ) {
        if self.saving.get_untracked() {
            return;
        }
        self.saving.set(true);
        self.error.set(None);
        let this = *self;
        spawn_local(async move {
            let result = fut.await;
            this.saving.set(false);
            match result {
                Ok(v) => ok(v),
                Err(e) => {
                    this.error.set(Some(e));
                }
            }
        });
    }

    pub fn fail(&self, e: ApiError) {
        self.error.set(Some(e));
    }
}

/// The form's `role=alert` for errors that belong to no input.
#[component]
pub fn FormAlert(form: FormState) -> impl IntoView {
    move || form.form_error().map(|m| view! { <div role="alert" class="alert">{m}</div> })
}

fn error_id(id: &'static str) -> String {
    format!("{id}-error")
}

/// The error line under an input, `id="{id}-error"`.
#[component]
fn FieldError(form: FormState, id: &'static str) -> impl IntoView {
    move || form.field_error(id).map(|m| view! { <p class="field-error" id=error_id(id)>{m}</p> })
}

/// A field's frame around its control: the label, then the control, an optional hint and the
/// error line.
#[component]
pub fn Field(
    form: FormState,
    id: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {children()}
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <FieldError form id />
        </div>
    }
}

/// A labelled text-like input bound to `value`.
#[component]
pub fn TextField(
    form: FormState,
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] readonly: bool,
) -> impl IntoView {
    let invalid = move || form.field_error(id).is_some();
    view! {
        <Field form id label hint>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                spellcheck="false"
                readonly=readonly
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then(|| error_id(id))
            />
        </Field>
    }
}

/// A labelled textarea bound to `value`.
#[component]
pub fn TextArea(
    form: FormState,
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = 3)] rows: u32,
) -> impl IntoView {
    let invalid = move || form.field_error(id).is_some();
    view! {
        <Field form id label hint>
            <textarea
                id=id
                name=id
                rows=rows
                spellcheck="false"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then(|| error_id(id))
            ></textarea>
        </Field>
    }
}

/// A labelled checkbox bound to `checked`.
#[component]
pub fn CheckboxField(form: FormState, id: &'static str, label: &'static str, checked: RwSignal<bool>) -> impl IntoView {
    let invalid = move || form.field_error(id).is_some();
    view! {
        <div class="field checkbox">
            <input
                type="checkbox"
                id=id
                name=id
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev))
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then(|| error_id(id))
            />
            <label for=id>{label}</label>
            <FieldError form id />
        </div>
    }
}

/// A labelled single `<select>` bound to `value`; options are `(value, label)`.
#[component]
pub fn SelectField(
    form: FormState,
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    options: &'static [(&'static str, &'static str)],
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let invalid = move || form.field_error(id).is_some();
    view! {
        <Field form id label hint>
            <select
                id=id
                name=id
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then(|| error_id(id))
            >
                {options
                    .iter()
                    .map(|(v, l)| {
                        view! {
                            <option value=*v selected=move || value.with(|s| s == v)>
                                {*l}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </Field>
    }
}

/// A labelled `<select multiple>` bound to `values`; options are `(value, label)`.
#[component]
pub fn MultiSelect(
    form: FormState,
    id: &'static str,
    label: &'static str,
    values: RwSignal<Vec<String>>,
    options: &'static [(&'static str, &'static str)],
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let invalid = move || form.field_error(id).is_some();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(select) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) else {
            return;
        };
        let selected = select.selected_options();
        let picked = (0..selected.length())
            .filter_map(|i| selected.item(i))
            .filter_map(|el| el.dyn_into::<web_sys::HtmlOptionElement>().ok())
            .map(|o| o.value())
            .collect();
        values.set(picked);
    };
    view! {
        <Field form id label hint>
            <select
                id=id
                name=id
                multiple
                size=options.len().to_string()
                on:change=on_change
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then(|| error_id(id))
            >
                {options
                    .iter()
                    .map(|(v, l)| {
                        let selected = move || values.with(|s| s.iter().any(|x| x == v));
                        view! {
                            <option value=*v prop:selected=selected>
                                {*l}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </Field>
    }
}

/// The fieldset "Owners": one checkbox per identity of the realm, labelled by username.
#[component]
pub fn OwnersField(form: FormState, realm: Memo<String>, owners: RwSignal<Vec<String>>) -> impl IntoView {
    let users = LocalResource::new(move || crate::api::list_users(realm.get(), String::new(), 1, 200));
    let invalid = move || form.field_error("owners").is_some();
    let list = move || {
        users.get().map_or_else(
            || view! { <Loading /> }.into_any(),
            |r| match r {
                Err(e) => view! { <p class="alert" role="alert">{e.message()}</p> }.into_any(),
                Ok(page) if page.items.is_empty() => {
                    view! { <p class="muted">"No identities in this realm yet."</p> }.into_any()
                }
                Ok(page) => page
                    .items
                    .into_iter()
                    .map(|u| {
                        let name = u.username.clone();
                        let id = format!("owner-{name}");
                        let (n1, n2) = (name.clone(), name.clone());
                        view! {
                            <div class="checkbox">
                                <input
                                    type="checkbox"
                                    id=id.clone()
                                    value=name.clone()
                                    prop:checked=move || owners.with(|o| o.contains(&n1))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        owners
                                            .update(|o| {
                                                o.retain(|x| *x != n2);
                                                if on {
                                                    o.push(n2.clone());
                                                }
                                            });
                                    }
                                />
                                <label for=id>{name}</label>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any(),
            },
        )
    };
    view! {
        <fieldset
            id="owners"
            class="field owners"
            aria-invalid=move || invalid().then_some("true")
            aria-describedby=move || invalid().then(|| error_id("owners"))
        >
            <legend>"Owners"</legend>
            {list}
            <FieldError form id="owners" />
        </fieldset>
    }
}

/// A submit button, disabled while the form saves.
#[component]
pub fn Submit(form: FormState, label: &'static str, #[prop(optional)] class: &'static str) -> impl IntoView {
    let class = if class.is_empty() { "primary" } else { class };
    view! {
        <button type="submit" class=class disabled=move || form.saving.get()>
            {label}
        </button>
    }
}

// ---------------------------------------------------------------------------------------------
// Dialogs

/// A confirmed action: whether its dialog is open, whether it runs, and its last error (shown
/// in the dialog).
#[derive(Clone, Copy)]
pub struct ConfirmState {
    pub open: RwSignal<bool>,
    pub busy: RwSignal<bool>,
    pub error: RwSignal<Option<ApiError>>,
}

impl ConfirmState {
    pub fn new() -> Self {
        Self { open: RwSignal::new(false), busy: RwSignal::new(false), error: RwSignal::new(None) }
    }

    /// Opens the dialog, without the last error.
    pub fn ask(&self) {
        self.error.set(None);
        self.open.set(true);
    }

    /// Runs `fut`, busy meanwhile; a failure shows in the dialog, a success goes to `ok`.
    pub fn run<T: 'static>(
        &self,
        fut: impl Future<Output = Result<T, ApiError>> + 'static,
        ok: impl FnOnce(T) + 'static,
    ) {
        let this = *self;
        this.busy.set(true);
        spawn_local(async move {
            let result = fut.await;
            this.busy.set(false);
            match result {
                Ok(v) => ok(v),
                Err(e) => this.error.set(Some(e)),
            }
        });
    }
}

/// A modal confirm dialog: focuses its confirm button, closes on Escape or Cancel, and gives
/// focus back to what had it.
#[component]
pub fn ConfirmDialog(
    state: ConfirmState,
    title: &'static str,
    #[prop(into)] message: Signal<String>,
    confirm: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let ConfirmState { open, busy, error } = state;
    let confirm_ref = NodeRef::<leptos::html::Button>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |_| {
        if open.get() {
            let active = document().active_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            opener.set_value(active);
        } else if let Some(el) = opener.try_get_value().flatten() {
            opener.set_value(None);
            if el.is_connected() {
                let _ = el.focus();
            }
        }
    });
    Effect::new(move |_| {
        if let Some(button) = confirm_ref.get() {
            request_animation_frame(move || {
                let _ = button.focus();
            });
        }
    });
    let close = move || {
        error.set(None);
        open.set(false);
    };
    let cancel_ref = NodeRef::<leptos::html::Button>::new();
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        // Keeps Tab inside the dialog: from its last button back to its first, and the reverse.
        "Tab" => {
            let (Some(first), Some(last)) = (confirm_ref.get_untracked(), cancel_ref.get_untracked()) else {
                return;
            };
            let active: Option<wasm_bindgen::JsValue> = document().active_element().map(Into::into);
            let is = |b: &web_sys::HtmlButtonElement| active.as_ref() == Some(b.as_ref());
            if ev.shift_key() && (is(&first) || first.disabled()) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && is(&last) {
                ev.prevent_default();
                let _ = if first.disabled() { last.focus() } else { first.focus() };
            }
        }
        _ => {}
    };
    let id = format!("dialog-{}", title.to_lowercase().replace(' ', "-"));
    move || {
        open.get().then(|| {
            let id = id.clone();
            view! {
                <div class="backdrop" on:click=move |_| close()></div>
                <div
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby=format!("{id}-title")
                    aria-describedby=format!("{id}-message")
                    on:keydown=on_key
                >
                    <h2 id=format!("{id}-title")>{title}</h2>
                    <p id=format!("{id}-message")>{move || message.get()}</p>
                    {move || error.get().map(|e| view! { <div role="alert" class="alert">{e.message()}</div> })}
                    <div class="actions">
                        <button
                            type="button"
                            class="danger"
                            node_ref=confirm_ref
                            disabled=move || busy.get()
                            on:click=move |_| on_confirm.run(())
                        >
                            {confirm}
                        </button>
                        <button type="button" node_ref=cancel_ref on:click=move |_| close()>
                            "Cancel"
                        </button>
                    </div>
                </div>
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets shown once

/// A read-only input holding a secret, a Copy button and the shown-once warning.
#[component]
pub fn SecretOnce(id: &'static str, label: &'static str, #[prop(into)] secret: String) -> impl IntoView {
    let copied = RwSignal::new(None::<Result<(), String>>);
    let flash = Flash::get();
    let value = secret.clone();
    let copy = move |_| {
        let value = value.clone();
        spawn_local(async move {
            let r = crate::util::copy_to_clipboard(&value).await;
            if r.is_ok() {
                flash.show("Copied to the clipboard.");
            }
            copied.set(Some(r));
        });
    };
    view! {
        <div class="secret-once">
            <div class="field">
                <label for=id>{label}</label>
                <div class="input-with-button">
                    <input
                        id=id
                        type="text"
                        readonly
                        class="mono"
                        spellcheck="false"
                        autocomplete="off"
                        prop:value=secret
                        on:focus=|ev| {
                            if let Some(input) = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                            {
                                input.select();
                            }
                        }
                    />
                    <button type="button" on:click=copy>
                        "Copy"
                    </button>
                </div>
            </div>
            <p class="warning">
                <strong>"This secret will not be shown again."</strong>
                " Store it now, for example in your secrets manager."
            </p>
            {move || {
                copied
                    .get()
                    .and_then(|r| r.err())
                    .map(|e| {
                        view! {
                            <p role="alert" class="alert">
                                {format!("Could not copy: {e}. Select the secret and copy it by hand.")}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

/// "Loading…".
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted loading">"Loading…"</p> }
}

/// Previous/next buttons for a paged list.
#[component]
pub fn Pager(page: u64, per_page: u64, total: u64, on_page: Callback<u64>) -> impl IntoView {
    let last = total.div_ceil(per_page.max(1)).max(1);
    (total > per_page).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                <button type="button" disabled=page <= 1 on:click=move |_| on_page.run(page - 1)>
                    "Previous"
                </button>
                <span>{format!("Page {page} of {last} ({total} in all)")}</span>
                <button type="button" disabled=page >= last on:click=move |_| on_page.run(page + 1)>
                    "Next page"
                </button>
            </nav>
        }
    })
}

/// A search box whose value goes to the URL's `?search=` 300 ms after the last keystroke.
#[component]
pub fn SearchBox(id: &'static str, label: &'static str, on_search: Callback<String>, initial: String) -> impl IntoView {
    let value = RwSignal::new(initial);
    let generation = StoredValue::new(0u64);
    let on_input = move |ev| {
        let v = event_target_value(&ev);
        value.set(v.clone());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(300).await;
            if generation.try_get_value() == Some(mine) {
                on_search.run(v);
            }
        });
    };
    view! {
        <div class="search">
            <label for=id class="visually-hidden">
                {label}
            </label>
            <input id=id type="search" placeholder=label prop:value=move || value.get() on:input=on_input />
        </div>
    }
}

/// The page's `?key=` query value.
pub fn query(key: &'static str) -> Memo<String> {
    let q = leptos_router::hooks::use_query_map();
    Memo::new(move |_| q.read().get(key).unwrap_or_default())
}

/// The page's `?page=` number: 1 when absent or not a number.
pub fn page_query() -> Memo<u64> {
    let page = query("page");
    Memo::new(move |_| page.get().parse::<u64>().unwrap_or(1).max(1))
}

/// A searchable list's place in the URL (`?search=`, `?page=`), and the callbacks of its search
/// box and pager, which replace the current history entry.
#[derive(Clone, Copy)]
pub struct ListQuery {
    pub search: Memo<String>,
    pub page: Memo<u64>,
    pub on_search: Callback<String>,
    pub on_page: Callback<u64>,
}

impl ListQuery {
    /// For the list at `path()` (read untracked, when the search or the page changes).
    pub fn new(path: impl Fn() -> String + Copy + Send + Sync + 'static) -> Self {
        let search = query("search");
        let replace = replacer();
        let replace_page = replace.clone();
        let on_search = Callback::new(move |s: String| replace(&with_query(&path(), &s, 1)));
        let on_page = Callback::new(move |p: u64| replace_page(&with_query(&path(), &search.get_untracked(), p)));
        Self { search, page: page_query(), on_search, on_page }
    }

    /// The empty state: "No {things} yet.", or "No {things} match “{search}”." while searching.
    pub fn empty_text(&self, things: &str) -> String {
        let search = self.search.get();
        if search.is_empty() { format!("No {things} yet.") } else { format!("No {things} match “{search}”.") }
    }
}

/// A paged list as it loads: "Loading…", then its error in an alert, the `empty` text when it
/// has no items, or `table(items)` and the pager.
pub fn paged_list<T, V: IntoView + 'static>(
    loaded: Option<Result<Page<T>, ApiError>>,
    empty: impl FnOnce() -> String,
    on_page: Callback<u64>,
    table: impl FnOnce(Vec<T>) -> V,
) -> AnyView {
    match loaded {
        None => view! { <Loading /> }.into_any(),
        Some(Err(e)) => view! { <div role="alert" class="alert">{e.message()}</div> }.into_any(),
        Some(Ok(p)) if p.items.is_empty() => view! { <p class="empty">{empty()}</p> }.into_any(),
        Some(Ok(Page { items, page, per_page, total })) => view! {
            {table(items)}
            <Pager page per_page total on_page />
        }
        .into_any(),
    }
}

/// One loaded thing: "Loading…", then `f(value)`, rendered once (not again when the value is
/// updated, so a form keeps its state and its messages), or the error, as `error_text` tells
/// it, in an alert.
pub fn when_loaded<T, V>(
    res: LocalResource<Result<T, ApiError>>,
    error_text: impl Fn(&ApiError) -> String + Send + Sync + 'static,
    f: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    // None while loading, then whether it loaded.
    let loaded = Memo::new(move |_| res.with(|r| r.as_ref().map(Result::is_ok)));
    move || match loaded.get() {
        None => view! { <Loading /> }.into_any(),
        Some(true) => res.get_untracked().and_then(Result::ok).map(&f).into_any(),
        Some(false) => {
            let msg = res.get_untracked().and_then(Result::err).map(|e| error_text(&e)).unwrap_or_default();
            view! { <div role="alert" class="alert">{msg}</div> }.into_any()
        }
    }
}

/// `path?search=…&page=…` without the empty or default ones.
pub fn with_query(path: &str, search: &str, page: u64) -> String {
    let mut parts = Vec::new();
    if !search.is_empty() {
        parts.push(format!("search={}", crate::api::seg(search)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { path.to_owned() } else { format!("{path}?{}", parts.join("&")) }
}
