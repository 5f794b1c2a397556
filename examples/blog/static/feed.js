// The live feed: an EventSource on /feed/events; each "post" event (JSON) is put on top
// of the list. Elements are built with textContent, so a title is never read as HTML.
(function () {
  const list = document.getElementById("feed");
  const state = document.getElementById("feed-state");
  const source = new EventSource(list.dataset.events);
  source.onopen = () => { state.textContent = "live"; };
  source.onerror = () => { state.textContent = "reconnecting…"; };
  source.addEventListener("post", (event) => {
    const post = JSON.parse(event.data);
    if (document.getElementById("post-" + post.id)) return;  // already shown
    const article = document.createElement("article");
    article.className = "post new";
    article.id = "post-" + post.id;
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = post.url;
    link.textContent = post.title;
    heading.appendChild(link);
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = "by " + post.author;
    article.append(heading, meta);
    if (post.image) {
      const image = document.createElement("img");
      image.src = post.image;
      image.alt = "";
      article.appendChild(image);
    }
    list.prepend(article);
  });
})();
