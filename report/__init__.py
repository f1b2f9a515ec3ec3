"""Reports for the JAG and the CSP board: summaries by ward, town centre, river frontage and
PSPO; crime concentration; period comparisons with RAG against targets; spreadsheet export."""
