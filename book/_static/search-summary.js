// Sphinx's search page shows, under each result, the text at the result's anchor.
// A concept-index entry's anchor is an empty <span id="index-N">: Sphinx 9 then gets no
// summary (null) and fails with "appendChild: parameter 1 is not of type 'Node'".
// For such a result, show the summary of the whole page instead.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined" || !Search.makeSearchSummary) return;
  const summary = Search.makeSearchSummary;
  Search.makeSearchSummary = (htmlText, keywords, anchor) =>
    summary(htmlText, keywords, anchor) ||
    summary(htmlText, keywords, "") ||
    document.createElement("span");
});
