"""Every table of every domain, gathered for migrations."""

from openbureau.accounts import models as account_models  # noqa: F401
from openbureau.audit import models as audit_models  # noqa: F401
from openbureau.authorities import models as authority_models  # noqa: F401
from openbureau.batches import models as batch_models  # noqa: F401
from openbureau.consent import models as consent_models  # noqa: F401
from openbureau.disputes import models as dispute_models  # noqa: F401
from openbureau.enterprises import models as enterprise_models  # noqa: F401
from openbureau.fraud import models as fraud_models  # noqa: F401
from openbureau.identity import models as identity_models  # noqa: F401
from openbureau.inquiries import models as inquiry_models  # noqa: F401
from openbureau.intake import models as intake_models  # noqa: F401
from openbureau.kit.db import Base
from openbureau.members import models as member_models  # noqa: F401
from openbureau.monitoring import models as monitoring_models  # noqa: F401
from openbureau.notifications import models as notification_models  # noqa: F401
from openbureau.people import models as people_models  # noqa: F401
from openbureau.prescreen import models as prescreen_models  # noqa: F401
from openbureau.rights import models as rights_models  # noqa: F401
from openbureau.scoring import models as scoring_models  # noqa: F401

target_metadata = Base.metadata
