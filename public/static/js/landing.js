// The landing page's demos: one plays at a time, the playing one is marked, its waveform fills
// as it plays, and a click on the waveform seeks (the audio control stays the keyboard's way).
const cards = [...document.querySelectorAll("[data-demo]")];
const players = cards.map((card) => card.querySelector("audio"));

for (const card of cards) {
  const audio = card.querySelector("audio");
  const wave = card.querySelector("[data-demo-wave]");
  const played = wave?.querySelector("[data-played]");
  const bars = wave ? wave.viewBox.baseVal.width : 0;

  audio.addEventListener("play", () => {
    for (const other of players) if (other !== audio) other.pause();
    card.dataset.playing = "";
  });
  for (const stop of ["pause", "ended"]) {
    audio.addEventListener(stop, () => delete card.dataset.playing);
  }
  audio.addEventListener("timeupdate", () => {
    if (played && audio.duration) played.setAttribute("width", String((bars * audio.currentTime) / audio.duration));
  });
  wave?.addEventListener("click", (event) => {
    const box = wave.getBoundingClientRect();
    const seek = () => {
      audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
      audio.play();
    };
    if (audio.readyState >= 1) seek();
    else audio.addEventListener("loadedmetadata", seek, { once: true });
  });
}
