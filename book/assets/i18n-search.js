/* The Chinese edition's search (book/i18n_ext.py adds this file to its search page only,
   before Sphinx's searchtools.js, which then keeps this splitQuery). The index was made
   with jieba and the book's terms; a browser has no segmenter, so each run of Chinese
   characters in the query is cut into the longest words the index knows (反向传播算法 ->
   反向传播 + 算法), and a lone character the index does not know is dropped. */
var splitQuery = function (query) {
  var idx = (typeof Search !== "undefined" && Search._index) || {};
  var known = function (w) {
    return (idx.terms && Object.prototype.hasOwnProperty.call(idx.terms, w)) ||
      (idx.titleterms && Object.prototype.hasOwnProperty.call(idx.titleterms, w));
  };
  var out = [];
  query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).forEach(function (part) {
    part.split(/(\p{Script=Han}+)/u).forEach(function (run) {
      if (!run) return;
      if (!/\p{Script=Han}/u.test(run)) { out.push(run); return; }
      var i = 0;
      while (i < run.length) {
        var j = run.length;
        while (j > i + 1 && !known(run.slice(i, j).toLowerCase())) j--;
        var word = run.slice(i, j);
        if (word.length > 1 || known(word)) out.push(word);
        i = j;
      }
    });
  });
  return out;
};
