"""The emulator's fixed catalogs: public workflow templates, and the built-in integrations whose
actions every new agent receives (all disabled). Documented in docs/emulator.md."""

from __future__ import annotations

from typing import Any

CATALOG_CREATED_AT = "2026-01-05T09:00:00.000000Z"

# (integration type, integration name, connected by default, [(action_name, name, description)])
BUILTIN_INTEGRATIONS: list[tuple[str, str, bool, list[tuple[str, str, str]]]] = [
    (
        "handoff",
        "Human handoff",
        True,
        [
            ("escalate_to_human", "Escalate to a human", "Hand the conversation to a team member."),
            ("flag_conversation", "Flag conversation", "Mark the conversation as needing review."),
        ],
    ),
    (
        "orders",
        "Store orders",
        True,
        [
            ("lookup_order", "Look up order", "Find an order by its number or the customer."),
            ("create_order", "Create order", "Place an order for the customer."),
            ("cancel_order", "Cancel order", "Cancel an order that has not shipped."),
        ],
    ),
    (
        "email",
        "Email",
        True,
        [
            ("send_email", "Send email", "Send an email to the customer or the team."),
            ("send_transcript", "Send transcript", "Email the conversation transcript."),
        ],
    ),
    (
        "google_calendar",
        "Google Calendar",
        False,
        [
            ("check_availability", "Check availability", "Find free slots in a calendar."),
            ("book_appointment", "Book appointment", "Create a calendar event for the customer."),
            ("cancel_appointment", "Cancel appointment", "Cancel a booked calendar event."),
        ],
    ),
    (
        "google_sheets",
        "Google Sheets",
        False,
        [
            ("append_row", "Append row", "Append a row to a spreadsheet."),
            ("lookup_row", "Look up row", "Find a row in a spreadsheet by a column value."),
        ],
    ),
    (
        "paystack",
        "Paystack",
        False,
        [
            ("create_payment_link", "Create payment link", "Create a Paystack payment link."),
            ("verify_payment", "Verify payment", "Check the status of a Paystack payment."),
        ],
    ),
    (
        "stripe",
        "Stripe",
        False,
        [
            ("create_checkout_session", "Create checkout", "Create a Stripe checkout session."),
            ("refund_payment", "Refund payment", "Refund a Stripe payment."),
        ],
    ),
    (
        "bumpa",
        "Bumpa",
        False,
        [
            ("check_order_status", "Check order status", "Look up an order in the Bumpa store."),
            ("list_products", "List products", "List products from the Bumpa store."),
        ],
    ),
]

BUILTIN_ACTION_NAMES: frozenset[str] = frozenset(
    action for _, _, _, actions in BUILTIN_INTEGRATIONS for action, _, _ in actions
)


def _workflow(
    wf_id: str,
    name: str,
    category: str,
    description: str,
    system_prompt: str,
    rules: list[dict[str, Any]],
    flows: list[dict[str, Any]],
    faq: list[dict[str, str]],
    tags: list[str],
    actions: list[str],
) -> dict[str, Any]:
    return {
        "id": wf_id,
        "name": name,
        "description": description,
        "category": category,
        "visibility": "public",
        "system_prompt": system_prompt,
        "rules": rules,
        "flows": flows,
        "tags": tags,
        "integrations": [],
        "channels": ["webchat", "whatsapp", "telephony"],
        "actions": actions,
        "guide": {"youtube_url": None, "steps": ["Review the prompt", "Add your knowledge base"]},
        "faq": faq,
        "setup_steps": [],
        "setup_time": 10,
        "video_url": None,
        "created_at": CATALOG_CREATED_AT,
        "updated_at": CATALOG_CREATED_AT,
    }


PUBLIC_WORKFLOWS: list[dict[str, Any]] = [
    _workflow(
        "wf_public_support_triage",
        "Customer Support Triage",
        "support",
        "Answers common questions and routes the rest to the right team.",
        "You are a courteous first-line support agent.\n"
        "Greet the customer, identify what they need, answer from the knowledge base,\n"
        "and escalate to a human when you are not sure or the customer asks for one.",
        [
            {
                "id": "rule_escalate",
                "name": "Escalate on request",
                "trigger": "human",
                "condition": None,
                "response": "Let me connect you with a member of our team.",
                "action": "escalate_to_human",
                "enabled": True,
            },
            {
                "id": "rule_refund",
                "name": "Refund questions",
                "trigger": "refund",
                "condition": None,
                "response": "Refunds are processed within 5 working days of approval.",
                "action": None,
                "enabled": True,
            },
        ],
        [
            {
                "name": "Order status",
                "description": "The customer asks where their order is.",
                "category": "orders",
                "priority": 1,
                "is_active": True,
                "trigger_keywords": [
                    {"keyword": "order", "weight": "high"},
                    {"keyword": "delivery", "weight": "medium"},
                ],
                "conversation_steps": [
                    {"type": "ask", "content": "What is your order number?"},
                    {"type": "action", "action": "check_order_status"},
                ],
            }
        ],
        [
            {"question": "What are your opening hours?", "answer": "We are open 8am to 8pm."},
            {"question": "How do I reset my password?", "answer": "Use 'Forgot password'."},
        ],
        ["support", "triage"],
        ["escalate_to_human", "check_order_status"],
    ),
    _workflow(
        "wf_public_appointment_booking",
        "Appointment Booking",
        "scheduling",
        "Books, moves and cancels appointments against a calendar.",
        "You help customers book appointments.\n"
        "Always confirm the date, time and time zone before booking,\n"
        "and offer the three nearest free slots when the requested one is taken.",
        [
            {
                "id": "rule_cancel",
                "name": "Cancellation",
                "trigger": "cancel",
                "condition": None,
                "response": "I can cancel that for you. Which appointment is it?",
                "action": "cancel_appointment",
                "enabled": True,
            }
        ],
        [
            {
                "name": "Book",
                "description": "Book a new appointment.",
                "category": "booking",
                "priority": 1,
                "is_active": True,
                "trigger_keywords": [{"keyword": "book", "weight": "high"}],
                "conversation_steps": [
                    {"type": "ask", "content": "Which day suits you?"},
                    {"type": "action", "action": "check_availability"},
                    {"type": "action", "action": "book_appointment"},
                ],
            }
        ],
        [{"question": "Can I reschedule?", "answer": "Yes, up to 24 hours before."}],
        ["scheduling"],
        ["check_availability", "book_appointment", "cancel_appointment"],
    ),
    _workflow(
        "wf_public_sales_assistant",
        "Sales Assistant",
        "sales",
        "Recommends products, answers pricing questions and takes payment.",
        "You are a friendly sales assistant.\n"
        "Recommend products that match what the customer describes,\n"
        "quote prices from the catalogue only, and send a payment link when they are ready.",
        [
            {
                "id": "rule_discount",
                "name": "Discount requests",
                "trigger": "discount",
                "condition": None,
                "response": "Our current offers are listed on the promotions page.",
                "action": None,
                "enabled": True,
            }
        ],
        [
            {
                "name": "Checkout",
                "description": "The customer wants to pay.",
                "category": "payments",
                "priority": 2,
                "is_active": True,
                "trigger_keywords": [{"keyword": "pay", "weight": "high"}],
                "conversation_steps": [{"type": "action", "action": "create_payment_link"}],
            }
        ],
        [{"question": "Do you deliver nationwide?", "answer": "Yes, within 3 to 5 days."}],
        ["sales", "commerce"],
        ["list_products", "create_payment_link"],
    ),
]
