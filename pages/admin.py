"""Admin: the users and their roles (add, change, remove, import an access.csv) and the
history of role changes. Administrators only; every change is decided and recorded in
``linkdash.access`` / ``linkdash.roles``."""

import streamlit as st

from linkdash import access, roles, ui

ui.page_start()

actor = ui.current_actor()
ui.require(actor.may_manage_users, "Users and roles are managed by administrators.")
store = ui.get_store()

st.title("Users and roles")
done = st.session_state.pop("admin_done", None)
if done:
    st.success(ui.literal(done))

users = access.list_users(store, actor)
if users.empty:
    st.info("No users yet. Add the people who sign in below: they see nothing until they "
            "have a role.")
else:
    st.dataframe(users, hide_index=True, width="stretch", placeholder=ui.BLANK, column_config={
        "email": "E-mail", "role": "Role", "scope": "Scope (regions or pilots)",
        "added_by": "Added by",
        "added_at": st.column_config.DatetimeColumn("Added (UTC)", format="YYYY-MM-DD HH:mm"),
        "changed_at": st.column_config.DatetimeColumn("Changed (UTC)", format="YYYY-MM-DD HH:mm")})

with st.form("user_form", clear_on_submit=False):
    st.subheader("Add a user or change a role")
    c1, c2, c3 = st.columns([3, 2, 3])
    email = c1.text_input("E-mail (as the sign-in provider verifies it)", key="user_email")
    role = c2.selectbox("Role", roles.ROLES, key="user_role",
                        format_func=lambda r: roles.ROLE_LABELS[r].split(":")[0])
    scope = c3.text_input("Scope: regions for a director, pilot ids for a country team",
                          key="user_scope", placeholder="Africa  or  KEN-DAIRY, UGA-DAIRY")
    if st.form_submit_button("Save", type="primary"):
        try:
            what = access.set_user(store, actor, email, role, scope)
            st.session_state["admin_done"] = {
                "add": f"Added {email.strip().lower()} as {role}.",
                "change": f"Changed {email.strip().lower()} to {role}.",
                "same": f"{email.strip().lower()} already had this role."}[what]
            st.rerun()
        except (access.Denied, roles.RoleError) as e:
            ui.show_refusal(e)
st.caption(" · ".join(f"**{r}**: {roles.ROLE_LABELS[r].split(': ', 1)[1]}" for r in roles.ROLES))

if not users.empty:
    st.subheader("Remove a user")
    gone = st.selectbox("User", list(users["email"]), index=None, key="remove_pick",
                        placeholder="Choose a user")
    if gone:
        sure = st.checkbox(f"Yes, remove {gone}", key="remove_sure")
        if st.button("Remove", disabled=not sure, key="remove_go"):
            try:
                access.remove_user(store, actor, gone)
                st.session_state["admin_done"] = f"Removed {gone}."
                st.rerun()
            except (access.Denied, roles.RoleError) as e:
                ui.show_refusal(e)

st.subheader("Import an access.csv")
st.caption("Columns `email,scope` (optionally `role`): a scope of `*` makes an administrator, "
           "regions a director, pilot ids a country team, an empty scope a viewer.")
up = st.file_uploader("access.csv", type=["csv"], key="access_csv", label_visibility="collapsed")
if up is not None and st.button("Import these users", key="access_import"):
    try:
        n = access.import_users_csv(store, actor, up.getvalue().decode("utf-8-sig"))
        st.session_state["admin_done"] = (f"Imported {ui.literal(up.name)}: {n['add']} added, "
                                          f"{n['change']} changed, {n['same']} unchanged.")
        st.rerun()
    except (access.Denied, roles.RoleError, UnicodeDecodeError) as e:
        ui.show_refusal(e)

st.subheader("History of roles")
hist = access.role_history(store, actor)
if hist.empty:
    st.caption("No role has changed yet.")
else:
    st.dataframe(hist.drop(columns=["id"]), hide_index=True, width="stretch", placeholder=ui.BLANK,
                 column_config={
        "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
        "by": "By", "action": "Change", "email": "User", "old_role": "Role before",
        "new_role": "Role after", "old_scope": "Scope before", "new_scope": "Scope after"})
