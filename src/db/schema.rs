// The one schema both backends share. Column types are limited to those diesel's
// `MultiConnection` supports: ids and JSON documents are Text, times are UTC Timestamps.

diesel::table! {
    engines (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        engine_id -> Text,
        external_id -> Text,
        subject_id -> Text,
        decision_type -> Text,
        outcome -> Text,
        score -> Nullable<Double>,
        threshold -> Nullable<Double>,
        model_name -> Text,
        model_version -> Text,
        significant_effect -> Bool,
        decided_at -> Timestamp,
        explanation -> Text,
        payload_hash -> Text,
        status -> Text,
        effective_outcome -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        actor_role -> Text,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        request_id -> Nullable<Text>,
        details -> Text,
        entry_hash -> Text,
    }
}

diesel::joinable!(decisions -> engines (engine_id));

diesel::allow_tables_to_appear_in_same_query!(engines, decisions, audit_log);
