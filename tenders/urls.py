"""Every page of tenders, in one URLconf: ``tenders:<name>`` everywhere.

Included once by ``portal.urls`` at the root, so each pattern carries its own
prefix (``opportunities/`` or ``council/policy/``). Grouped by who the pages
are for; each group names the module of ``tenders.views`` that serves it
(the map is in ``tenders/views/__init__.py``).

Order: the invited supplier's and the officers' pages under
``opportunities/<pk>/...`` come before the shared list and page of one
opportunity, as they always have (none of them could match a shared one's
address, but keep it so: a new pattern goes in its own group, above
``# --- Shared``).
"""

from django.urls import path

from tenders.views import policy, shared
from tenders.views.officer import actions as officer_actions
from tenders.views.officer import award_steps as officer_award_steps
from tenders.views.officer import bids as officer_bids
from tenders.views.officer import invitations as officer_invitations
from tenders.views.officer import opportunities as officer_opportunities
from tenders.views.officer import panel as officer_panel
from tenders.views.officer import questionnaire as officer_questionnaire
from tenders.views.supplier import bids as supplier_bids
from tenders.views.supplier import opportunities as supplier_opportunities

app_name = "tenders"

urlpatterns = [
    # --- Council: the procurement policy and its "full tender required" register
    # (tenders.views.policy), under council/policy/.
    path("council/policy/", policy.policy, name="policy"),
    path("council/policy/new/", policy.policy_new, name="policy_new"),
    path("council/policy/full-tender/", policy.full_tender_register, name="full_tender_register"),
    path(
        "council/policy/full-tender.csv",
        policy.full_tender_register_csv,
        name="full_tender_register_csv",
    ),
    # --- Invited supplier: asking a question and saying whether it will bid
    # (tenders.views.supplier.opportunities). The list and the page of one
    # opportunity are shared with the council's officers (below).
    path("opportunities/<int:pk>/ask/", supplier_opportunities.ask, name="opportunity_ask"),
    path(
        "opportunities/<int:pk>/intention/",
        supplier_opportunities.intention,
        name="opportunity_intention",
    ),
    # --- Invited supplier that bid: its outcome letters, to read and print
    # (tenders.views.supplier.opportunities). 404 for everyone else.
    path(
        "opportunities/<int:pk>/outcome/",
        supplier_opportunities.outcome,
        name="supplier_outcome",
    ),
    # --- Invited supplier: its bid on one lot and its receipts
    # (tenders.views.supplier.bids). Only for people of the bid's own supplier:
    # everyone else gets 404. The council's pages for bids are further down.
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/bid/",
        supplier_bids.bid_page,
        name="supplier_bid",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/bid/check/",
        supplier_bids.bid_check_page,
        name="supplier_bid_check",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/bid/withdraw/",
        supplier_bids.bid_withdraw_page,
        name="supplier_bid_withdraw",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/bid/files/<int:file_pk>/",
        supplier_bids.bid_file_download,
        name="supplier_bid_file",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/bid/files/<int:file_pk>/remove/",
        supplier_bids.bid_file_remove,
        name="supplier_bid_file_remove",
    ),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/receipts/<int:number>/",
        supplier_bids.receipt,
        name="supplier_bid_receipt",
    ),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/receipts/<int:number>/receipt.txt",
        supplier_bids.receipt_text,
        name="supplier_bid_receipt_text",
    ),
    # --- Council officers: writing a draft, the lot builder
    # (tenders.views.officer.opportunities), inviting suppliers
    # (tenders.views.officer.invitations), publishing, documents, answers,
    # the override, cancelling and amending (tenders.views.officer.actions).
    path("opportunities/new/", officer_opportunities.opportunity_new, name="opportunity_create"),
    path(
        "opportunities/<int:pk>/edit/",
        officer_opportunities.opportunity_edit,
        name="opportunity_edit",
    ),
    path(
        "opportunities/<int:pk>/lots/areas/",
        officer_opportunities.opportunity_lot_builder,
        name="opportunity_lot_builder",
    ),
    path(
        "opportunities/<int:pk>/invite/",
        officer_invitations.opportunity_invite,
        name="opportunity_invite",
    ),
    path(
        "opportunities/<int:pk>/invite/all-local/",
        officer_invitations.opportunity_invite_all_local,
        name="opportunity_invite_all_local",
    ),
    path(
        "opportunities/<int:pk>/invite/withdraw/",
        officer_invitations.opportunity_invitation_withdraw,
        name="opportunity_invitation_withdraw",
    ),
    path(
        "opportunities/<int:pk>/publish/",
        officer_actions.opportunity_publish_view,
        name="opportunity_publish",
    ),
    path(
        "opportunities/<int:pk>/documents/add/",
        officer_actions.opportunity_document_add,
        name="opportunity_document_add",
    ),
    path(
        "opportunities/<int:pk>/questions/<int:clarification_pk>/answer/",
        officer_actions.opportunity_clarification_answer,
        name="clarification_answer",
    ),
    path(
        "opportunities/<int:pk>/override/",
        officer_actions.opportunity_override,
        name="opportunity_override",
    ),
    path(
        "opportunities/<int:pk>/cancel/",
        officer_actions.opportunity_cancel_view,
        name="opportunity_cancel",
    ),
    path(
        "opportunities/<int:pk>/deadline/",
        officer_actions.opportunity_extend,
        name="opportunity_extend",
    ),
    path(
        "opportunities/<int:pk>/correct/",
        officer_actions.opportunity_correct,
        name="opportunity_correct",
    ),
    path(
        "opportunities/<int:pk>/value/",
        officer_actions.opportunity_change_value_view,
        name="opportunity_change_value",
    ),
    # --- Council officers (auditors read the overview): the questionnaire and
    # pricing schedule of an opportunity (tenders.views.officer.questionnaire).
    path(
        "opportunities/<int:pk>/questionnaire/",
        officer_questionnaire.questionnaire,
        name="questionnaire",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/copy/",
        officer_questionnaire.questionnaire_copy_view,
        name="questionnaire_copy",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/questions/add/",
        officer_questionnaire.question_add_view,
        name="questionnaire_question_add",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/questions/<int:question_pk>/",
        officer_questionnaire.question_edit_view,
        name="questionnaire_question_edit",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/questions/<int:question_pk>/remove/",
        officer_questionnaire.question_remove_view,
        name="questionnaire_question_remove",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/questions/<int:question_pk>/move/",
        officer_questionnaire.question_move_view,
        name="questionnaire_question_move",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/pricing/add/",
        officer_questionnaire.line_add_view,
        name="questionnaire_line_add",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/pricing/<int:line_pk>/",
        officer_questionnaire.line_edit_view,
        name="questionnaire_line_edit",
    ),
    path(
        "opportunities/<int:pk>/questionnaire/pricing/<int:line_pk>/remove/",
        officer_questionnaire.line_remove_view,
        name="questionnaire_line_remove",
    ),
    # --- Council officers and auditors: the sealed box, evaluation and award
    # (tenders.views.officer.bids). Everything but the opening is 404 until
    # two officers have opened the box.
    path("opportunities/<int:pk>/bids/open/", officer_bids.box_open_view, name="box_open"),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/evaluation/",
        officer_bids.lot_evaluation,
        name="lot_evaluation",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/award/",
        officer_bids.lot_award,
        name="lot_award",
    ),
    path("opportunities/<int:pk>/bids/<int:bid_pk>/", officer_bids.bid_detail, name="bid_detail"),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/score/<int:criterion_pk>/",
        officer_bids.bid_score,
        name="bid_score",
    ),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/exclude/",
        officer_bids.bid_exclude_view,
        name="bid_exclude",
    ),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/files/<int:file_pk>/",
        officer_bids.bid_file_download,
        name="bid_file",
    ),
    # --- Council officers and auditors: letters of intention and the standstill,
    # challenges, and the evaluation report (tenders.views.officer.award_steps).
    # 404 until two officers have opened the box; auditors read, 403 on actions.
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/letters/",
        officer_award_steps.lot_letters,
        name="lot_letters",
    ),
    path(
        "opportunities/<int:pk>/lots/<int:lot_pk>/intention/",
        officer_award_steps.lot_intention,
        name="lot_intention",
    ),
    path(
        "opportunities/<int:pk>/challenges/",
        officer_award_steps.challenges,
        name="challenges",
    ),
    path(
        "opportunities/<int:pk>/challenges/<int:challenge_pk>/resolve/",
        officer_award_steps.challenge_resolve_view,
        name="challenge_resolve",
    ),
    path(
        "opportunities/<int:pk>/evaluation-report/",
        officer_award_steps.report_page,
        name="evaluation_report",
    ),
    path(
        "opportunities/<int:pk>/evaluation-report.pdf",
        officer_award_steps.report_pdf,
        name="evaluation_report_pdf",
    ),
    # --- The evaluation panel (tenders.views.officer.panel, issue 17): the council
    # names it; its members declare, mark and moderate. 404 until opened.
    path("opportunities/<int:pk>/panel/", officer_panel.panel, name="panel"),
    path(
        "opportunities/<int:pk>/panel/declaration/",
        officer_panel.declaration,
        name="panel_declaration",
    ),
    path("opportunities/<int:pk>/marking/", officer_panel.marking, name="marking"),
    path(
        "opportunities/<int:pk>/marking/bids/<int:bid_pk>/",
        officer_panel.marking_bid,
        name="marking_bid",
    ),
    path(
        "opportunities/<int:pk>/marking/finish/",
        officer_panel.marking_finish_view,
        name="marking_finish",
    ),
    path("opportunities/<int:pk>/moderation/", officer_panel.moderation, name="moderation"),
    path(
        "opportunities/<int:pk>/moderation/bids/<int:bid_pk>/",
        officer_panel.moderation_bid,
        name="moderation_bid",
    ),
    # --- Shared by the council and its invited suppliers (tenders.views.shared):
    # the list and the page of one opportunity, each role's own version, and
    # its documents.
    path("opportunities/", shared.opportunity_list, name="opportunity_list"),
    path("opportunities/<int:pk>/", shared.opportunity_detail, name="opportunity_detail"),
    # --- Council: the work the threshold rule adds up with an opportunity
    # (tenders.views.officer.opportunities), linked from its route.
    path(
        "opportunities/<int:pk>/work-added-up/",
        officer_opportunities.work_added_up_page,
        name="opportunity_work_added_up",
    ),
    path(
        "opportunities/<int:pk>/documents/<int:document_pk>/",
        shared.document_download,
        name="opportunity_document",
    ),
    # --- Shared: an opportunity's deadlines as an .ics file (tenders.views.shared),
    # for whoever may see its page.
    path(
        "opportunities/<int:pk>/deadlines.ics",
        shared.opportunity_calendar,
        name="opportunity_calendar",
    ),
]
