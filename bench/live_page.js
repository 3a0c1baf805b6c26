// bench/live.py's probe, added to every frame of the page before its own scripts run.
// It watches the camera track the page hands to WebRTC (the moment the page holds camera frame n) and every
// frame painted by an output <video> (requestVideoFrameCallback), reading the index code that bench/live.py
// stamps into each camera frame. All times are performance.now() of the document that holds the stream
// (streamlit-webrtc's iframe), so camera and paint times share one clock.
(() => {
  if (window.__fzBench) return;
  const CONFIG = __CONFIG__;  // {width, height, blocks, bits} of the camera; replaced by bench/live.py
  const bench = window.__fzBench = {local: [], painted: [], videos: 0, errors: [], localFormat: ''};
  const blockSize = Math.floor(CONFIG.width / 48);
  const stripWidth = CONFIG.blocks * blockSize;
  const stripX = Math.floor((CONFIG.width - stripWidth) / 2);
  const stripY = CONFIG.height - 3 * blockSize;

  // Reads the code from whatever is drawn: a canvas source of any size (WebRTC may scale the stream down).
  const canvas = new OffscreenCanvas(stripWidth, blockSize);
  const context = canvas.getContext('2d', {willReadFrequently: true});
  function readCode(source, width, height) {
    const sx = width / CONFIG.width, sy = height / CONFIG.height;
    context.drawImage(source, stripX * sx, stripY * sy, stripWidth * sx, blockSize * sy,
                      0, 0, stripWidth, blockSize);
    const pixels = context.getImageData(0, 0, stripWidth, blockSize).data;
    const bits = [];
    const lo = Math.floor(blockSize / 3), hi = Math.ceil(2 * blockSize / 3);
    for (let k = 0; k < CONFIG.blocks; k++) {
      let sum = 0, count = 0;
      for (let y = lo; y < hi; y++) {
        for (let x = k * blockSize + lo; x < k * blockSize + hi; x++) {
          sum += pixels[4 * (y * stripWidth + x) + 1];
          count++;
        }
      }
      bits.push(sum / count > 128 ? 1 : 0);
    }
    // The strip is centred, so the selfie view's flip only reverses the block order: the marker says which.
    let mirrored = false;
    if (bits[0] === 0 && bits[CONFIG.blocks - 1] === 1) { bits.reverse(); mirrored = true; }
    if (bits[0] !== 1 || bits[CONFIG.blocks - 1] !== 0) return [-1, mirrored];
    let index = 0;
    for (let b = 0; b < CONFIG.bits; b++) {
      if (bits[1 + b] === bits[1 + CONFIG.bits + b]) return [-1, mirrored];  // complement check failed
      index = index * 2 + bits[1 + b];
    }
    return [index, mirrored];
  }

  async function watchCamera(track) {
    try {
      const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
      for (;;) {
        const {value: frame, done} = await reader.read();
        if (done) return;
        const now = performance.now();
        try {
          bench.localFormat = `${frame.format} ${frame.displayWidth}x${frame.displayHeight}`;
          const [index] = readCode(frame, frame.displayWidth, frame.displayHeight);
          bench.local.push([index, now, frame.timestamp / 1000]);
        } finally {
          frame.close();
        }
      }
    } catch (error) {
      bench.errors.push(`camera: ${error}`);
    }
  }

  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (constraints && constraints.video) {  // the bench's camera size, whatever the app asks for
      const video = typeof constraints.video === 'object' ? constraints.video : {};
      constraints = {...constraints, video: {...video, width: {ideal: CONFIG.width},
                                             height: {ideal: CONFIG.height}}};
    }
    const stream = await getUserMedia(constraints);
    for (const track of stream.getVideoTracks()) watchCamera(track.clone());
    return stream;
  };

  if (CONFIG.keepResolution) {
    const addTrack = RTCPeerConnection.prototype.addTrack;
    RTCPeerConnection.prototype.addTrack = function (track, ...streams) {
      if (track.kind === 'video') track.contentHint = 'detail';
      return addTrack.call(this, track, ...streams);
    };
  }

  function watchVideo(video) {
    const onFrame = (now, meta) => {
      try {
        const [index, mirrored] = readCode(video, meta.width, meta.height);
        bench.painted.push([index, meta.expectedDisplayTime, meta.presentedFrames, meta.width, meta.height,
                            mirrored ? 1 : 0]);
      } catch (error) {
        if (bench.errors.length < 20) bench.errors.push(`paint: ${error}`);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    bench.videos++;
  }

  const hooked = new WeakSet();
  setInterval(() => {
    for (const video of document.querySelectorAll('video')) {
      if (!hooked.has(video)) { hooked.add(video); watchVideo(video); }
    }
  }, 100);
})();
