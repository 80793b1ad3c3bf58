"""Enterprise borrowers and sole traders' businesses: the enterprises, their accounts and the business links of
sole traders' accounts (docs/furnishing-format.md#enterprise-borrowers-and-sole-traders-standard-v11)."""
