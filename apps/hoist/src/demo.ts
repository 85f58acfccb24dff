// PENDING: the real demo needs @hoist/remote and @hoist/layout.
console.log("hoist demo: pending");
