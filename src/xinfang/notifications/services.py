"""Writing notifications and outbox messages; reading the bell.

Everything here writes in the caller's transaction: if the action that caused a notification rolls
back, the notification and its messages roll back with it and nothing is sent.  Messages are sent by
the worker after the commit (``core.jobs.enqueue``); a crash in between loses nothing because the
periodic ``tasks.deliver_pending`` sends whatever is still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from xinfang.core import jobs

from .models import Channel, MessageTemplate, Notification, OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from xinfang.organisations.models import User
    from xinfang.petitions.models import Petition

log = logging.getLogger(__name__)

DELIVER_TASK = "xinfang.notifications.tasks.deliver"


def _user_ids(users: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    seen: set[int] = set()
    for u in users:
        uid = u if isinstance(u, int) else getattr(u, "pk", None)
        if uid is None or uid in seen:
            continue
        seen.add(uid)
        ids.append(uid)
    return ids


def notify(
    users: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    petition: Petition | None = None,
    dedupe_key: str = "",
    email: bool = False,
    sms: bool = False,
) -> int:
    """Ring the bell of ``users`` (User objects or ids); returns how many notifications were new.

    A user who already has a notification with the same non-empty ``dedupe_key`` is skipped (also
    for e-mail).  ``email=True`` queues an e-mail to each new recipient with an address on record;
    ``sms=True`` (urgent items) also queues an SMS to each new recipient with a mobile number on
    record (``User.mobile``, set by the security administrator); the number is copied encrypted,
    never decrypted here.  Inactive accounts are never notified.
    """
    ids = _user_ids(users)
    if not ids:
        return 0
    User = get_user_model()
    recipients = list(User.objects.filter(pk__in=ids, is_active=True).only("id", "email", "mobile_mask"))
    if dedupe_key:
        already = set(
            Notification.objects.filter(
                user_id__in=[u.pk for u in recipients], dedupe_key=dedupe_key
            ).values_list("user_id", flat=True)
        )
        recipients = [u for u in recipients if u.pk not in already]
    if not recipients:
        return 0
    now = timezone.now()
    title = title[:200]
    url = url[:300]
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=u.pk,
                kind=kind[:40],
                title=title,
                body=body,
                url=url,
                petition=petition,
                created_at=now,
                dedupe_key=dedupe_key,
            )
            for u in recipients
        ],
        # A concurrent run with the same key wins the race harmlessly.
        ignore_conflicts=bool(dedupe_key),
    )
    if email:
        text = body + (f"\n\n{_absolute(url)}" if url else "")
        queue_messages(
            [
                OutboxMessage(
                    channel=Channel.EMAIL,
                    recipient=u.email,
                    recipient_mask=mask_email(u.email),
                    subject=title,
                    body=text.strip() or title,
                    petition=petition,
                    dedupe_key=outbox_key(f"{dedupe_key}:email:{u.pk}") if dedupe_key else "",
                    created_at=now,
                    next_attempt_at=now,
                )
                for u in recipients
                if u.email
            ]
        )
    if sms:
        queue_staff_sms([u for u in recipients if u.mobile_mask], title + ("：" + body if body else ""),
                        petition=petition, dedupe_key=dedupe_key, now=now)  # fmt: skip
    return len(recipients)


def queue_staff_sms(
    users: list[Any],
    text: str,
    *,
    petition: Petition | None = None,
    dedupe_key: str = "",
    now: Any = None,
    template_code: str = "",
) -> list[int]:
    """Queue an SMS to each of ``users`` (who have a mobile on record: ``mobile_mask`` set), the
    number copied ciphertext to ciphertext from ``User.mobile``.  Staff SMS are short: the text is
    cut at 120 characters, prefixed with the office's signature."""
    now = now or timezone.now()
    sign = _sms_sign()
    text = text[:120]
    if sign and not text.startswith(sign):
        text = sign + text
    messages: list[OutboxMessage] = []
    sources: dict[int, int] = {}
    for u in users:
        message = OutboxMessage(
            channel=Channel.SMS,
            recipient="",
            recipient_mask=u.mobile_mask,
            body=text,
            petition=petition,
            template_code=template_code,
            dedupe_key=outbox_key(f"{dedupe_key}:sms:{u.pk}") if dedupe_key else "",
            created_at=now,
            next_attempt_at=now,
        )
        messages.append(message)
        sources[id(message)] = u.pk
    return queue_messages(messages, before_queue=lambda m: _copy_mobile(m, sources[id(m)]))


def _copy_mobile(message: OutboxMessage, user_id: int) -> None:
    """As ``_copy_phone``, for a staff member's mobile."""
    from django.db.models import Subquery

    mobile = get_user_model().objects.filter(pk=user_id).values("mobile")[:1]
    OutboxMessage.objects.filter(pk=message.pk).update(recipient=Subquery(mobile))


def _absolute(url: str) -> str:
    from django.conf import settings

    base = getattr(settings, "XINFANG_SITE_URL", "") or ""
    return base.rstrip("/") + url if url.startswith("/") else url


def outbox_key(key: str) -> str:
    """A dedupe key that fits the column: a long one is replaced by its hash (never truncated,
    which could make two different messages look the same)."""
    if len(key) <= 160:
        return key
    import hashlib

    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def mask_email(address: str) -> str:
    """``zhang.san@example.cn`` → ``z***@example.cn``."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def queue_messages(
    messages: list[OutboxMessage],
    *,
    before_queue: Callable[[OutboxMessage], None] | None = None,
    unseen: bool = False,
) -> list[int]:
    """Write outbox rows (skipping any whose dedupe key is already there) and have the worker send
    them after the commit.  ``before_queue`` runs for each row written (in the same savepoint).
    ``unseen``: the keys name something created in this very transaction (a registration's first
    event), so no other transaction can have queued them: neither looked up nor guarded.
    Returns the ids of the rows written."""
    if not messages:
        return []
    keys = [m.dedupe_key for m in messages if m.dedupe_key and not unseen]
    if keys:
        existing = set(OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        messages = [m for m in messages if not m.dedupe_key or m.dedupe_key not in existing]
    ids: list[int] = []
    for m in messages:
        if m.dedupe_key and not unseen:
            # A savepoint, so a concurrent duplicate does not poison the caller's transaction.
            try:
                with transaction.atomic():
                    m.save()
                    if before_queue is not None:
                        before_queue(m)
            except IntegrityError:  # someone else queued it first
                log.info("outbox message %s already queued", m.dedupe_key)
                continue
        else:
            m.save()
            if before_queue is not None:
                before_queue(m)
        ids.append(m.pk)
    if ids:
        jobs.enqueue(DELIVER_TASK, ids)
    return ids


def notify_petitioner(
    petition: Petition,
    template_code: str,
    *,
    event_id: int | None = None,
    new_event: bool = False,
    **context: Any,
) -> int:
    """Queue the SMS ``template_code`` to the petitioner(s) of ``petition`` who gave a phone number.

    The text is rendered now (so it tells what was true at the time of the action), from the
    editable ``MessageTemplate``; ``number`` is always available.  The query code is never put in
    an SMS: it is not in any template's placeholders.  Returns the number of messages queued (0 when
    nobody has a phone or the template is missing), one per distinct phone number.  ``event_id``
    (the timeline event) makes the message idempotent: the same event never texts twice;
    ``new_event`` says the event was created in this transaction, so nothing can have been queued
    for it yet (a registration: three statements fewer).
    """
    template = MessageTemplate.objects.filter(code=template_code).first()
    if template is None:
        # The row is created by migration 0002; without it (a flushed database) use the default.
        from .defaults import DEFAULT_TEMPLATES

        if template_code not in DEFAULT_TEMPLATES:
            log.warning("no message template %s", template_code)
            return 0
        name, channel, placeholders, text = DEFAULT_TEMPLATES[template_code]
        template = MessageTemplate(
            code=template_code, name=name, channel=channel, placeholders=placeholders, text=text
        )
    ctx = {"number": petition.number, **context}
    ctx.setdefault("portal", _portal_hint())
    text = template.render(**ctx)
    sign = _sms_sign()
    if sign and not text.startswith(sign):
        text = sign + text
    # Only the hash (distinct numbers) and the mask are read: the phone itself is never decrypted
    # here.  Its ciphertext is copied into the outbox row by the database (same keys), and only
    # the worker decrypts it, to send.
    people = list(
        petition.petitioners.filter(phone_hash__isnull=False)
        .exclude(phone_hash="")
        .only("id", "phone_hash", "phone_mask")
        .order_by("id")
    )
    seen: set[str] = set()
    messages: list[OutboxMessage] = []
    sources: dict[int, int] = {}  # id(message) -> petitioner id
    now = timezone.now()
    for person in people:
        if person.phone_hash in seen:
            continue
        seen.add(person.phone_hash)
        message = OutboxMessage(
            channel=Channel.SMS,
            recipient="",
            recipient_mask=person.phone_mask,
            body=text,
            petition=petition,
            template_code=template_code,
            dedupe_key=(
                f"sms:{petition.pk}:{template_code}:{event_id}:{person.phone_hash[:16]}" if event_id else ""
            ),
            created_at=now,
            next_attempt_at=now,
        )
        messages.append(message)
        sources[id(message)] = person.pk
    copy_phone = lambda m: _copy_phone(m, sources[id(m)])  # noqa: E731
    return len(queue_messages(messages, before_queue=copy_phone, unseen=new_event and event_id is not None))


def _copy_phone(message: OutboxMessage, petitioner_id: int) -> None:
    """Copy the petitioner's encrypted phone into the outbox row, ciphertext to ciphertext (an
    expression bypasses the field's encryption, so the stored token is copied unchanged)."""
    from django.db.models import Subquery

    from xinfang.petitions.models import Petitioner

    phone = Petitioner.objects.filter(pk=petitioner_id).values("phone")[:1]
    OutboxMessage.objects.filter(pk=message.pk).update(recipient=Subquery(phone))


def _sms_sign() -> str:
    from django.conf import settings

    return getattr(settings, "XINFANG_SMS_SIGN", "") or ""


def _portal_hint() -> str:
    from django.conf import settings

    return getattr(settings, "XINFANG_PORTAL_HINT", "") or "网上信访平台"


def unread_count(user: User) -> int:
    """The number on the bell: one indexed count on (user, read_at)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def for_user(user: User, *, unread: bool = False) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first."""
    qs = Notification.objects.filter(user=user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    unread_first = Case(
        When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return qs.order_by(unread_first, "-created_at", "-id")


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications ``ids`` (all when None) as read; others' ids are ignored.
    Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- staff pages: the outbox and the templates (audited writes) --------------------------------


def outbox_for(user: User) -> QuerySet[OutboxMessage]:
    """The outbox messages ``user`` may see: all for the system administrator; for a supervisor
    those about petitions in their scope (``Petition.objects.restrict``).  Nothing for others."""
    from xinfang.organisations.choices import RoleCode
    from xinfang.petitions.models import Petition

    qs = OutboxMessage.objects.select_related("petition").defer("recipient")
    if user.has_role(RoleCode.SYSADMIN):
        return qs
    if user.has_role(RoleCode.SUPERVISOR):
        return qs.filter(petition__in=Petition.objects.restrict(user).values("pk"))
    return qs.none()


def retry_message(user: User, message_id: int) -> bool:
    """Staff's retry button: put a failed message back in the queue (audited); False when it is not
    failed (already retried or sent) or not visible to ``user``."""
    from xinfang.audit.services import record_event

    from . import delivery

    with transaction.atomic():
        message = outbox_for(user).select_for_update(of=("self",)).filter(pk=message_id).first()
        if message is None or message.status != OutboxStatus.FAILED:
            return False
        delivery.retry([message.pk])
        record_event(
            actor=user,
            action="notifications.outbox_retry",
            obj=message,
            data={
                "channel": message.channel,
                "recipient": message.recipient_mask,
                "attempts": message.attempts,
            },
        )
        jobs.enqueue(DELIVER_TASK, [message.pk])
    return True


def update_template(user: User, template: MessageTemplate, *, name: str, text: str) -> MessageTemplate:
    """Reword a message template (system administrator; the form has validated the placeholders)."""
    from xinfang.audit.services import record_event

    with transaction.atomic():
        locked = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        old = locked.text
        locked.name, locked.text = name, text
        locked.full_clean()
        locked.save()
        record_event(
            actor=user,
            action="notifications.template_edit",
            obj=locked,
            data={"code": locked.code, "old": old, "new": text},
        )
    return locked


def delivery_warnings() -> list[str]:
    """What the outbox page warns the administrator of: messages that will not really leave the
    machine (the demo SMS backend, no SMTP server).  Not a deploy check: a site may choose to run
    without SMS or e-mail."""
    from django.conf import settings
    from django.utils.module_loading import import_string
    from django.utils.translation import gettext as _

    warnings: list[str] = []
    try:
        backend = import_string(settings.XINFANG_SMS_BACKEND)
    except ImportError:
        warnings.append(_("短信网关配置有误（XINFANG_SMS_BACKEND 无法加载），短信将发送失败。"))
    else:
        if getattr(backend, "demo", False):
            warnings.append(_("短信网关为演示模式：短信不会真正发出，仅在此标为“已发送（演示）”。"))
    if not settings.EMAIL_HOST and settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        warnings.append(_("未配置邮件服务器（EMAIL_HOST），邮件将发送失败并不断重试。"))
    return warnings
