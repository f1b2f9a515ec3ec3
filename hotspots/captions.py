"""What a hotspot map's ranking rests on, in plain English for a council officer: one sentence
per method, naming the crime chosen ("ranked by burglaries in each 50 m square; ties broken by
all crime nearby"), for the caption under the map, the CLI and exports."""

from __future__ import annotations

# police.uk's crime types as a reader would count them
PLURALS = {
    "Anti-social behaviour": "ASB reports",
    "Bicycle theft": "bicycle thefts",
    "Burglary": "burglaries",
    "Criminal damage and arson": "criminal damage and arson offences",
    "Drugs": "drug offences",
    "Other crime": "other crimes",
    "Other theft": "other thefts",
    "Possession of weapons": "weapon possession offences",
    "Public order": "public order offences",
    "Robbery": "robberies",
    "Shoplifting": "shoplifting offences",
    "Theft from the person": "thefts from the person",
    "Vehicle crime": "vehicle crimes",
    "Violence and sexual offences": "violent and sexual offences",
}
# metric parameters worth listing; the ranking is said in words instead
WORDED = ("ranking", "tie_break")


def selection_noun(categories: list[str] | None) -> str:
    """What is counted, as a plural: 'burglaries', 'burglaries and robberies', 'incidents of
    the 4 selected types', or 'incidents' for all crime and ASB."""
    chosen = [c for c in (categories or []) if str(c).strip()]
    if not chosen:
        return "incidents"
    nouns = [PLURALS.get(c, f"incidents of {c}") for c in chosen]
    if len(nouns) == 1:
        return nouns[0]
    if len(nouns) <= 3:
        return ", ".join(nouns[:-1]) + " and " + nouns[-1]
    return f"incidents of the {len(nouns)} selected types"


def ranking_sentence(method: str, parameters: dict, categories: list[str] | None) -> str:
    """One sentence saying what the method's ranking rests on, for the chosen crime."""
    noun = selection_noun(categories)
    cell = parameters.get("cell_size_m")
    square = f"{cell:g} m square" if isinstance(cell, int | float) else "square"
    if method == "weighted":
        if parameters.get("pool"):
            return (f"Ranked by {noun} in each {square}; ties broken by how many months had "
                    f"{noun} there, then by all crime nearby. Every hotspot had at least one "
                    "in the period.")
        return (f"Ranked by {noun} in each {square} (all crime and ASB); squares with the "
                "same count are listed west to east.")
    if method == "forecast":
        pooled = " plus all crime there, scaled to them," if parameters.get("pool") else ""
        return (f"Where {noun} are likely next month: ranked by {noun} in each {square}"
                f"{pooled} plus a tenth of the neighbouring squares; a square with none of "
                "them in the period can be shown.")
    if method == "grid":
        shape = "hexagon" if parameters.get("shape") == "hex" else "square"
        size = f"{cell:g} m {shape}" if isinstance(cell, int | float) else shape
        return f"Ranked by {noun} in each {size}."
    if method == "kde":
        width = parameters.get("bandwidth_m")
        reach = f" over {width:,.0f} m" if isinstance(width, int | float) else ""
        rule = parameters.get("bandwidth_rule")
        why = f" (bandwidth: {rule})" if rule and rule != "given" else ""
        return (f"Ranked by the density of {noun} around each {square}, smoothed{reach} with "
                f"a {parameters.get('kernel', 'quartic')} kernel{why}.")
    if method in ("dbscan", "hdbscan"):
        return f"Clusters of nearby locations, ranked by the {noun} inside each."
    if method == "gistar":
        return (f"Squares where {noun} cluster more than chance would explain (Getis-Ord Gi*, "
                "90% confidence or more), ranked by how strongly.")
    return str(parameters.get("ranking", ""))


def listed_parameters(parameters: dict) -> str:
    """'name = value' for each parameter but those said in words."""
    return ", ".join(f"{k} = {v}" for k, v in parameters.items() if k not in WORDED)
