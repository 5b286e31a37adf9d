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
        checkpoint_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_checkpoints (id) {
        id -> BigInt,
        prev_hash -> Text,
        merkle_root -> Text,
        entry_count -> BigInt,
        first_seq -> BigInt,
        last_seq -> BigInt,
        sealed_at -> Timestamp,
        checkpoint_hash -> Text,
    }
}

diesel::table! {
    decision_type_policies (decision_type) {
        decision_type -> Text,
        filing_window_months -> Integer,
        requires_approval -> Bool,
        updated_at -> Timestamp,
        retention_months -> Nullable<Integer>,
    }
}

diesel::table! {
    queues (name) {
        name -> Text,
        description -> Text,
        blind_first -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        queue -> Text,
        position -> Integer,
        decision_type -> Nullable<Text>,
        model_name -> Nullable<Text>,
        significant_effect -> Nullable<Bool>,
        score_min -> Nullable<Double>,
        score_max -> Nullable<Double>,
        priority -> Integer,
    }
}

diesel::table! {
    reviewers (id) {
        id -> Text,
        authorities -> Text,
        capacity -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    appeals (id) {
        id -> Text,
        decision_id -> Text,
        subject_id -> Text,
        decision_type -> Text,
        status -> Text,
        queue -> Text,
        priority -> Integer,
        escalation_level -> Integer,
        escalate_at -> Nullable<Timestamp>,
        filed_by -> Text,
        filed_by_role -> Text,
        channel -> Text,
        identity_check -> Nullable<Text>,
        grounds -> Text,
        statement -> Text,
        corrected_inputs -> Nullable<Text>,
        requested_outcome -> Nullable<Text>,
        evidence -> Nullable<Text>,
        received_at -> Timestamp,
        due_at -> Timestamp,
        extension_reason -> Nullable<Text>,
        assigned_to -> Nullable<Text>,
        assignment_reason -> Nullable<Text>,
        reviewer_id -> Nullable<Text>,
        lease_token -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        claimed_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reviews (id) {
        id -> Text,
        appeal_id -> Text,
        decision_id -> Text,
        reviewer_id -> Text,
        outcome -> Text,
        new_outcome -> Nullable<Text>,
        rationale -> Text,
        factors_considered -> Text,
        rectified_inputs -> Nullable<Text>,
        status -> Text,
        approver_id -> Nullable<Text>,
        approval_note -> Nullable<Text>,
        seconds_spent -> Nullable<BigInt>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        appeal_id -> Text,
        subject_id -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        id -> Text,
        event_type -> Text,
        engine_id -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
        personal_data_of -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (actor, idem_key) {
        actor -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        engine_id -> Text,
        url -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        actor_id -> Text,
        role -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        endpoint_id -> Text,
        engine_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        window_start -> Timestamp,
        lease_token -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_links_used (link_id) {
        link_id -> Text,
        used_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    decision_reason_codes (decision_id, code) {
        decision_id -> Text,
        code -> Text,
        model_name -> Text,
        model_version -> Text,
        engine_id -> Text,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    model_suspensions (model_name) {
        model_name -> Text,
        reason -> Text,
        suspended_by -> Text,
        suspended_at -> Timestamp,
    }
}

diesel::table! {
    initial_views (appeal_id, reviewer_id) {
        appeal_id -> Text,
        reviewer_id -> Text,
        leaning -> Text,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    subject_restrictions (subject_id) {
        subject_id -> Text,
        reason -> Text,
        restricted_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    breaches (id) {
        id -> Text,
        status -> Text,
        description -> Text,
        reported_by -> Text,
        reported_by_role -> Text,
        aware_at -> Timestamp,
        reported_at -> Timestamp,
        authority_notified_at -> Nullable<Timestamp>,
        authority_reference -> Nullable<Text>,
        delay_reason -> Nullable<Text>,
        subjects_notified -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    breach_steps (id) {
        id -> Text,
        breach_id -> Text,
        from_status -> Text,
        to_status -> Text,
        note -> Text,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(breach_steps -> breaches (breach_id));

diesel::table! {
    legal_holds (decision_id) {
        decision_id -> Text,
        subject_id -> Text,
        reason -> Text,
        held_until -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subject_notices (id) {
        id -> Text,
        subject_id -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subject_objections (subject_id, scope) {
        subject_id -> Text,
        scope -> Text,
        grounds -> Text,
        created_at -> Timestamp,
        compelling_grounds -> Nullable<Text>,
        overridden_by -> Nullable<Text>,
        overridden_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rectifications (id) {
        id -> Text,
        subject_id -> Text,
        decision_id -> Text,
        corrected_inputs -> Text,
        note -> Text,
        status -> Text,
        restricted -> Bool,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolution_note -> Nullable<Text>,
    }
}

diesel::joinable!(decisions -> engines (engine_id));
diesel::joinable!(appeals -> decisions (decision_id));
diesel::joinable!(reviews -> appeals (appeal_id));
diesel::joinable!(notices -> appeals (appeal_id));
diesel::joinable!(routing_rules -> queues (queue));
diesel::joinable!(webhook_endpoints -> engines (engine_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(initial_views -> appeals (appeal_id));
diesel::joinable!(legal_holds -> decisions (decision_id));

diesel::allow_tables_to_appear_in_same_query!(
    legal_holds,
    rectifications,
    subject_objections,
    subject_restrictions,
    subject_notices,
    breaches,
    breach_steps,
    audit_checkpoints,
    engines,
    decisions,
    audit_log,
    decision_type_policies,
    queues,
    routing_rules,
    reviewers,
    appeals,
    reviews,
    notices,
    outbox,
    idempotency_keys,
    webhook_endpoints,
    webhook_deliveries,
    model_suspensions,
    decision_reason_codes,
    web_sessions,
    login_links_used,
    initial_views,
);
