"""The names every layer shares for what is being looked at: the Community Safety Partnership
themes of the strategic assessment (with the short forms people type) and "All crime and ASB",
the selection of every category."""

ALL_CRIME = "All crime and ASB"

SERIOUS_VIOLENCE = "Serious violence"
VAWG = "Violence against women and girls"
DOMESTIC_ABUSE = "Domestic abuse"
HATE_CRIME = "Hate crime"
ACQUISITIVE = "Town centre and acquisitive crime"
ASB = "Anti-social behaviour"
EXPLOITATION = "Exploitation and vulnerability"
WATER_SAFETY = "Water safety"
THEMES = (SERIOUS_VIOLENCE, VAWG, DOMESTIC_ABUSE, HATE_CRIME, ACQUISITIVE, ASB, EXPLOITATION,
          WATER_SAFETY)
THEME_ALIASES = {"vawg": VAWG, "asb": ASB, "da": DOMESTIC_ABUSE, "sv": SERIOUS_VIOLENCE,
                 "town centre crime": ACQUISITIVE, "acquisitive crime": ACQUISITIVE,
                 "exploitation": EXPLOITATION, "vulnerability": EXPLOITATION}
