"""Bodies of the share-links API, and who may see which link."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.events import AssetId, utcnow

from ..identity.models import EMAIL_PATTERN, NAME_PATTERN

__all__ = [
    "MAX_BULK",
    "AlertPreferencesIn",
    "EraseIn",
    "ManagerIn",
    "ShareLinkIn",
    "ShareLinksIn",
]

#: Links per bulk request: a campaign's list of a few hundred contacts, in one transaction.
MAX_BULK = 500
#: The furthest expiry a link may be given.
MAX_EXPIRY = timedelta(days=5 * 366)

class ShareLinkIn(BaseModel):
    """One link: an asset and who it is sent to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    asset_id: AssetId
    recipient_email: str = Field(pattern=EMAIL_PATTERN, max_length=254,
                                 examples=["dana@prospect.example"])
    recipient_name: str | None = Field(None, max_length=200, pattern=NAME_PATTERN)
    company: str | None = Field(None, max_length=200, pattern=NAME_PATTERN,
                                description="The account; else the email's domain is")
    crm_contact_id: str | None = Field(None, max_length=200, pattern=NAME_PATTERN)
    email_gate: bool = Field(False, description="Ask the visitor for an email first "
                                                "(never verified)")
    expires_at: AwareDatetime | None = Field(None, description="Unavailable from then on")

    @field_validator("expires_at")
    @classmethod
    def _ahead(cls, value: AwareDatetime | None) -> AwareDatetime | None:
        now = utcnow()
        if value is not None and not now < value <= now + MAX_EXPIRY:
            raise ValueError("must be in the future, at most 5 years ahead")
        return value


class ShareLinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    links: list[ShareLinkIn] = Field(min_length=1, max_length=MAX_BULK)


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)


class ManagerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    manager_id: int | None = Field(None, ge=1, le=2**63 - 1,
                                   description="A manager's or admin's user id; null for none")


class AlertPreferencesIn(BaseModel):
    """A rep's hot-engagement alerts (the notifier reads them from share_alert_preferences)."""

    model_config = ConfigDict(extra="forbid")
    first_open: bool = True
    reopen_after_days: int = Field(7, ge=0, le=365, description="0: no re-open alert")
    forward: bool = True
    long_read_seconds: int = Field(120, ge=0, le=86_400, description="0: no long-read alert")
    quiet_from_hour: int = Field(0, ge=0, le=23, description="UTC; equal hours: none")
    quiet_to_hour: int = Field(0, ge=0, le=23)
