"""What an auditor reads instead of codes: one label for every audit action
code the portal records, and the names of the fields its events carry.

``tests/test_audit_reading.py`` finds every code passed to
``portal.audit.record`` in the product's source and fails for one without a
label here, so a new event cannot reach the histories as a bare code.
"""

from __future__ import annotations

# Every action code recorded, in plain words. Keep one line a code.
ACTION_LABELS: dict[str, str] = {
    # issue 18: the council's spending file (ledger.services.imports)
    "spend_import.uploaded": "Spending file uploaded",
    "spend_import.queued": "Spending import queued",
    "spend_import.started": "Spending import started",
    "spend_import.resumed": "Spending import resumed",
    "spend_import.requeued": "Spending import re-queued after its worker stopped",
    "spend_import.imported": "Spending file imported",
    "spend_import.failed": "Spending import failed",
    "spend_import.withdrawn": "Spending import withdrawn",
    "spend_mapping.created": "Spending file's columns remembered",
    "spend_mapping.changed": "Spending file's columns changed",
    # portal: councils, people, signing in
    "buyer.created": "Council created",
    "buyer.locality_changed": "Council's locality changed",
    "department.created": "Department created",
    "user.created": "Account created",
    "user.changed": "Account changed",
    "user.signed_in": "Signed in",
    "user.signed_out": "Signed out",
    "user.sign_in_failed": "Sign-in failed",
    "user.locked_out": "Account locked after failed sign-ins",
    "address.locked_out": "Address locked after failed sign-ins",
    "user.unlocked": "Account unlocked",
    "user.password_changed": "Password changed",
    "user.password_reset": "Password reset",
    "user.password_reset_requested": "Password reset link sent",
    "user.preferences_changed": "Email preferences changed",
    "user.two_factor_set_up": "Two-factor sign-in set up",
    "user.two_factor_verified": "Two-factor code accepted",
    "user.two_factor_failed": "Two-factor code refused",
    "user.two_factor_code_reused": "Two-factor code refused: already used",
    "user.two_factor_reset": "Two-factor sign-in reset",
    "user.recovery_code_used": "Recovery code used",
    "user.recovery_codes_replaced": "Recovery codes replaced",
    "user.email_verified": "Email address confirmed",
    "user.invited_again": "Invitation sent again",
    "user.joined": "Joined the organisation",
    "user.supplier_role_changed": "Role in the supplier changed",
    "user.removed_from_supplier": "Removed from the supplier",
    "notifications.retried": "Failed notifications sent again",
    # suppliers
    "supplier.registered": "Supplier registered",
    "supplier.status_changed": "Council's approval changed",
    "supplier.change_requested": "Supplier asked for a change",
    "supplier.change_accepted": "Requested change accepted",
    "supplier.change_refused": "Requested change refused",
    "supplier.profile_changed": "Supplier details changed",
    "supplier.site_added": "Site added",
    "supplier.site_changed": "Site changed",
    "supplier.site_removed": "Site removed",
    # tenders: policy and opportunities
    "policy.created": "Procurement policy version created",
    "opportunity.created": "Drafted",
    "opportunity.edited": "Edited",
    "opportunity.route_decided": "Threshold rule decided the route",
    "opportunity.aggregation_override": "Approver justified the work as separate",
    "opportunity.invited": "Suppliers invited",
    "invitation.withdrawn": "Invitation withdrawn before publishing",
    "opportunity.published": "Published to the invited suppliers",
    "opportunity.closed": "Closed for bids",
    "opportunity.cancelled": "Cancelled",
    "opportunity.awarded": "Every lot awarded",
    "opportunity.document_added": "Document added",
    "opportunity.value_change_refused": "Value change refused by the threshold rule",
    "opportunity.amended.deadline_extended": "Amended: deadline extended",
    "opportunity.amended.document_added": "Amended: document added",
    "opportunity.amended.details_corrected": "Amended: details corrected",
    "opportunity.amended.value_changed": "Amended: value or lots changed",
    "opportunity.amended.questionnaire_changed": "Amended: questionnaire changed",
    # issue 17: the questionnaire and pricing schedule of a draft
    "questionnaire.question_added": "Question added to the questionnaire",
    "questionnaire.question_changed": "Question of the questionnaire changed",
    "questionnaire.question_removed": "Question removed from the questionnaire",
    "questionnaire.question_moved": "Question of the questionnaire moved",
    "questionnaire.line_added": "Pricing line added",
    "questionnaire.line_changed": "Pricing line changed",
    "questionnaire.line_removed": "Pricing line removed",
    "questionnaire.copied": "Questionnaire copied from an earlier opportunity",
    "clarification.asked": "Question asked",
    "clarification.answered": "Question answered",
    "invitation.intention": "Supplier said whether it intends to bid",
    # tenders: bids, opening, evaluation, award
    "bid.started": "Bid started",
    "bid.submitted": "Bid submitted",
    "bid.withdrawn": "Bid withdrawn",
    "bid.returned_to_draft": "Bid returned to its draft by a change to the questionnaire",
    "bid.scored": "Bid scored",
    "bid.excluded": "Bid excluded",
    # the evaluation panel (issue 17): never the marks themselves
    "panel.set": "Evaluation panel named",
    "panel.member_removed": "Removed from the evaluation panel",
    "panel.no_conflict_declared": "Panel member declared no conflict of interest",
    "panel.conflict_declared": "Panel member declared a conflict of interest",
    "evaluation.marked": "Answer marked by an evaluator",
    "evaluation.finished": "Evaluator finished marking",
    "moderation.marked": "Answer moderated",
    "evaluation.moderated": "Evaluation agreed by the moderator",
    "box.first_confirmation": "First officer confirmed the opening",
    "box.opened": "Bids opened by two officers",
    "lot.awarded": "Lot awarded",
    "lot.intention_sent": "Letters of intention to award sent (standstill started)",
    "lot.outcome_letters_sent": "Outcome letters sent to every bidder",
    "challenge.recorded": "Challenge to an award recorded",
    "challenge.resolved": "Challenge to an award resolved",
    "report.downloaded": "Evaluation report downloaded (PDF)",
    "award.refused": "Award refused by the threshold rule",
    # issue 18: figures (the real local share, where it leaks, the network)
    "ledger.category_mapped": "Spending category mapped to a CPV group",
    "ledger.network_share_set": "Sharing of headline figures with the network changed",
    "ledger.draft_from_leak": "Draft opportunity started from where spending leaks",
    # transparency: the auditors' own
    "flag.reviewed": "Flag marked as reviewed",
    # issue 18: payees
    "payee.matched_by_number": "Payee matched to a supplier by Companies House number",
    "payee.matched": "Payee matched to a supplier by an officer",
    "payee.candidate_rejected": "Supplier rejected as the payee",
    "payee.unmatched": "Payee's match to a supplier undone",
    "payee.invited_to_register": "Payee invited to register",
}


def action_label(action: str) -> str:
    """The label of ``action``; a code with none (never in a tested build) is
    spelled out rather than shown raw."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.split(".", 1)[-1].replace("_", " ").replace(".", ": ").capitalize()


# The fields an event's changes and context carry, by key. A key not here is
# spelled out ("non_local_justification" → "Non local justification").
FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "description": "Description",
    "cpv": "Category (CPV)",
    "contract_kind": "Kind of contract",
    "department": "Department",
    "options_value": "Value of options",
    "value_vat_basis": "Values entered",
    "contract_start": "Contract start",
    "contract_end": "Contract end",
    "max_lots_per_supplier": "Most lots one supplier may win",
    "reservation": "Reserved for",
    "no_cross_border_interest": "No cross-border interest",
    "clarification_deadline": "Deadline for questions",
    "submission_deadline": "Deadline for bids",
    "value": "Value",
    "status": "Status",
    "route": "Route",
    "band": "Band",
    "policy": "Policy version",
    "occasion": "When the rule was asked",
    "reasons": "Reasons",
    "letters": "Letters sent to",
    "reason": "Reason",
    "justification": "Justification",
    "flag": "Shown to auditors as a flag",
    "count": "How many",
    "local": "Of them local",
    "non_local_suppliers": "Suppliers invited that are not local",
    "non_local_justification": "Why suppliers that are not local were invited",
    "intention": "Intends to bid",
    "supplier": "Supplier",
    "lot": "Lot",
    "bid": "Bid",
    "challenge": "Challenge",
    "reference": "Reference",
    "resolution": "Resolution",
    "standstill_days": "Standstill (days)",
    "standstill_ends": "Standstill ends (UK time)",
    "criterion": "Criterion",
    "mark": "Mark",
    "passed_over": "Passed over",
    "version": "Version",
    "receipt": "Receipt",
    "files": "Files",
    "first_officer": "First officer",
    "first_at": "First officer confirmed",
    "second_officer": "Second officer",
    "second_at": "Second officer confirmed",
    "summary": "Summary",
    "document": "Document",
    "sha256": "SHA-256 of the file",
    "clarification": "Question number",
    "visibility": "Answer shown to",
    "council": "Council",
    "council_name": "Council",
    "legal_name": "Legal name",
    "sites": "Sites",
    "site": "Site",
    "categories": "Categories",
    "change": "Change request",
    "kind": "Kind",
    "replaces": "Replaces request",
    "email": "Email",
    "role": "Role",
    "supplier_role": "Role in the supplier",
    "is_superuser": "Administrator of the whole portal",
    "is_active": "Active",
    "invitation_withdrawn": "Invitation withdrawn",
    "name": "Name",
    "slug": "Short name",
    "buyer": "Council",
    "locality": "Locality",
    "effective_from": "In force from",
    "local_threshold": "Local threshold",
    "bands": "Bands",
    "method": "Method",
    "ip": "IP address",
    "failures": "Failed attempts",
    "until": "Locked until",
    "how": "How",
    "failures_cleared": "Failed attempts cleared",
    "recovery_codes": "Recovery codes",
    "recovery_codes_left": "Recovery codes left",
    "other_set_ups_deleted": "Other unconfirmed authenticator set-ups deleted",
    "pending_authenticators_deleted": "Unconfirmed authenticator set-ups deleted",
    "password_usable": "Password sign-in allowed",
    "device": "Device",
    "via": "Through",
    "changed_at": "Changed at",
    "note": "Note",
    "record": "Record",
    "estimated_value": "Estimated value",
    "recorded_as_history": "Recorded afterwards, from the council's files",
    "rank": "Rank",
}


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key) or key.replace("_", " ").capitalize()


# Keys whose values are amounts of money (pounds, as the services record them).
MONEY_KEYS = frozenset(
    {"value", "options_value", "local_threshold", "estimated_value", "price", "awarded_value"}
)
# Keys whose values are the ids of suppliers (one id or a list of them).
SUPPLIER_KEYS = frozenset({"supplier", "non_local_suppliers"})
# Keys whose values are the ids of people.
USER_KEYS = frozenset({"user", "made_by", "created_by", "invited_by", "reviewed_by"})
# Keys whose values are the ids of a council's departments.
DEPARTMENT_KEYS = frozenset({"department"})
